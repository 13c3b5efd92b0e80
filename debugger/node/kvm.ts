/*
 * kvm.ts — is KVM worth using on this machine? /dev/kvm must exist, be ours, and run guests on the
 * CPU's virtualization (VMX or SVM among /proc/cpuinfo's flags). A /dev/kvm without them is KVM
 * in software (kvm_pvm, inside a VM without nested virtualization): an OS kernel's code runs there
 * at about 1 µs per instruction — LaneOS's boot takes minutes where TCG takes a second or two
 * (os/kernel/README.md) — so accel "auto" takes TCG there, and says why. LANES_KVM=soft uses such
 * a /dev/kvm anyway. (os/tools/lanesboot.py's kvm_unusable_reason is the same test for the
 * Python tools.)
 */
import fs from 'node:fs';

/** VMX or SVM among the CPU's flags (no /proc/cpuinfo to read: assume so). */
export function cpuHasVirtualization(cpuinfo?: string): boolean {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return true;
    }
  }
  const flags = /^flags\s*:(.*)$/m.exec(text);
  if (!flags) return true;
  const set = new Set(flags[1]!.trim().split(/\s+/));
  return set.has('vmx') || set.has('svm');
}

/** kvmUnusableReason's answer on a machine without KVM at all (nothing to explain to the user). */
export const NO_KVM_DEVICE = 'no /dev/kvm';

/** Why KVM is not used here (null: it is). */
export function kvmUnusableReason(env: NodeJS.ProcessEnv = process.env, cpuinfo?: string): string | null {
  if (!fs.existsSync('/dev/kvm')) return NO_KVM_DEVICE;
  try {
    fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return '/dev/kvm is not accessible to this user';
  }
  if (!cpuHasVirtualization(cpuinfo) && env['LANES_KVM'] !== 'soft') {
    return '/dev/kvm is KVM in software (the CPU has no VMX/SVM: kvm_pvm), far slower than TCG for an OS kernel; LANES_KVM=soft uses it anyway';
  }
  return null;
}
