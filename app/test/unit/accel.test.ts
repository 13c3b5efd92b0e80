/*
 * Which accelerator "auto" takes: KVM only where the CPU backs /dev/kvm (VMX or SVM). A /dev/kvm
 * in software (kvm_pvm, on a VM without nested virtualization) runs an OS kernel far slower than
 * TCG: LaneOS's boot took over 180 s there (os-test's usertests kvm configurations timed out),
 * against ~2 s under TCG. The Run says why it took TCG.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuHasVirtualization, NO_KVM_DEVICE } from '../../../debugger/node/kvm.js';
import { accelArgs, autoAccelNote } from '../../node/qemu.js';

const cpu = (flags: string) => `processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu vme ${flags} sse2\nbugs\t\t: \n`;

test('VMX or SVM among the flags means hardware virtualization; a hypervisor flag alone does not', () => {
  assert.equal(cpuHasVirtualization(cpu('vmx')), true);
  assert.equal(cpuHasVirtualization(cpu('svm')), true);
  assert.equal(cpuHasVirtualization(cpu('hypervisor')), false);
  assert.equal(cpuHasVirtualization(cpu('svm_lock vmxon')), false, 'whole flags only');
  assert.equal(cpuHasVirtualization('no flags line'), true, 'unknown: believe /dev/kvm');
});

test('accel auto takes TCG, and says why, when KVM is not worth it; an explicit choice stays', () => {
  const soft = '/dev/kvm is KVM in software (the CPU has no VMX/SVM: kvm_pvm)';
  assert.deepEqual(accelArgs('auto', null), ['-accel', 'kvm', '-accel', 'tcg']);
  assert.deepEqual(accelArgs('auto', soft), ['-accel', 'tcg']);
  assert.deepEqual(accelArgs('auto', NO_KVM_DEVICE), ['-accel', 'tcg']);
  assert.deepEqual(accelArgs('kvm', soft), ['-accel', 'kvm'], 'the project asked for KVM by name');
  assert.deepEqual(accelArgs('tcg', null), ['-accel', 'tcg']);
  assert.match(autoAccelNote('auto', soft) ?? '', /^accel auto: TCG, not KVM: .*kvm_pvm/);
  assert.equal(autoAccelNote('auto', NO_KVM_DEVICE), null, 'nothing to say without /dev/kvm');
  assert.equal(autoAccelNote('auto', null), null);
  assert.equal(autoAccelNote('tcg', soft), null);
});
