/*
 * flight.ts — read the kernel's trace rings through the GDB remote protocol (QEMU's gdbstub or
 * the Lanescope bridge) after a panic or at a breakpoint, and turn them into a trace file.
 *
 *   const t = await readFlightRecorder(client, elfBytes)   // client: RspClient, target stopped
 *   fs.writeFileSync('crash.ltrace', t.file)
 *
 * Symbols come from the kernel ELF (debugger/common/elf.ts): trace_rings, trace_nrings, tsc_hz,
 * trace_tsc0. Memory is read with the client's readMemory (chunks of at most 0x800 bytes).
 */
import { parseElf } from '../../common/elf.js';
import { buildTraceFile, makeHeader, parseRing, parseRingStruct, RING_STRUCT_SIZE, type RingInfo } from '../../common/trace/flight.js';

export interface MemoryReader {
  readMemory(addr: bigint, length: number): Promise<Uint8Array>;
}

export interface FlightResult {
  file: Uint8Array;
  rings: Array<RingInfo & { records: number; bad: number }>;
  tscHz: bigint;
}

/** The kernel symbols the flight recorder reads (checked against the ELF by kernel-layout.test.ts). */
export const FLIGHT_SYMBOLS = ['trace_rings', 'trace_nrings', 'tsc_hz', 'trace_tsc0'] as const;

export async function readFlightRecorder(mem: MemoryReader, elfBytes: Uint8Array): Promise<FlightResult> {
  const elf = parseElf(elfBytes);
  const sym = (name: (typeof FLIGHT_SYMBOLS)[number]) => {
    const s = elf.symbols.find((x) => x.name === name && x.shndx !== 0);
    if (!s) throw new Error(`flight recorder: the kernel ELF has no symbol '${name}' (not a tracing kernel?)`);
    return s.value;
  };
  const le64 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  const nrings = new DataView((await mem.readMemory(sym('trace_nrings'), 4)).buffer).getUint32(0, true);
  if (nrings > 64) throw new Error(`flight recorder: trace_nrings is ${nrings} (memory not readable or corrupt)`);
  const tscHz = le64(await mem.readMemory(sym('tsc_hz'), 8));
  const tsc0 = le64(await mem.readMemory(sym('trace_tsc0'), 8));
  const ringsRaw = nrings ? await mem.readMemory(sym('trace_rings'), nrings * RING_STRUCT_SIZE) : new Uint8Array(0);
  const parts: Uint8Array[] = [];
  const rings: FlightResult['rings'] = [];
  for (let i = 0; i < nrings; i++) {
    const info = parseRingStruct(ringsRaw, i * RING_STRUCT_SIZE);
    // A ring is a power of two of at most 64 MiB (rings in an ivshmem BAR are up to 32 MiB).
    // Only its records, [keep, head), are read: one or two ranges of the circular buffer.
    const live = info.head - info.keep;
    if (!info.data || !info.size || info.size > (1 << 26) || info.head < info.keep || live > BigInt(info.size)) {
      rings.push({ ...info, records: 0, bad: 1 });
      continue;
    }
    const data = new Uint8Array(info.size);
    const start = Number(info.keep & BigInt(info.size - 1));
    const first = Math.min(Number(live), info.size - start);
    if (first) data.set(await mem.readMemory(info.data + BigInt(start), first), start);
    if (Number(live) > first) data.set(await mem.readMemory(info.data, Number(live) - first), 0);
    const r = parseRing(info, data);
    parts.push(r.records);
    rings.push({ ...info, records: r.count, bad: r.bad });
  }
  return { file: buildTraceFile(makeHeader(tscHz, tsc0, nrings), parts), rings, tscHz };
}
