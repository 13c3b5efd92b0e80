/*
 * messages.ts — a MessageDecoder from a message-type table: the MESSAGE_TYPES data that
 * os/abi/genmsg.py generates from os/abi/messages.toml (build/ts/messages.ts). Where the app can
 * bundle the generated module it uses messageDecoderFrom() (adapt.ts) instead; this is for hosts
 * that only get the table as data (the renderer under a strict CSP receives it from the backend).
 * Layout rules are the generator's: a u32 word 0x4c4d0000 | id, then fields at their offsets.
 */
import type { MessageDecoder } from './events.js';

export interface MsgFieldSpec {
  name: string;
  type: string; // u8 u16 u32 u64 i32 i64 handle char
  offset: number;
  size: number;
}

export interface MsgTypeSpec {
  word: number;
  type: string;
  fields: MsgFieldSpec[];
}

export function tableDecoder(types: readonly MsgTypeSpec[]): MessageDecoder {
  const byWord = new Map<number, MsgTypeSpec>(types.map((t) => [t.word >>> 0, t]));
  const typeOf = (b: Uint8Array): MsgTypeSpec | undefined => (b.length < 4 ? undefined : byWord.get((b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0));
  return {
    typeOf: (b) => typeOf(b)?.type,
    decode(b) {
      const t = typeOf(b);
      if (!t) return undefined;
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const parts: string[] = [];
      for (const f of t.fields) {
        if (f.offset + f.size > b.length) {
          parts.push('…');
          break;
        }
        let v: string;
        switch (f.type) {
          case 'u8': v = String(dv.getUint8(f.offset)); break;
          case 'u16': v = String(dv.getUint16(f.offset, true)); break;
          case 'u32': v = String(dv.getUint32(f.offset, true)); break;
          case 'i32': case 'handle': v = String(dv.getInt32(f.offset, true)); break;
          case 'u64': v = dv.getBigUint64(f.offset, true).toString(); break;
          case 'i64': v = dv.getBigInt64(f.offset, true).toString(); break;
          default: {
            let s = '';
            for (let i = 0; i < f.size && b[f.offset + i]; i++) s += String.fromCharCode(b[f.offset + i]!);
            v = JSON.stringify(s);
          }
        }
        parts.push(`${f.name}: ${v}`);
      }
      return { type: t.type, text: `${t.type}{${parts.join(', ')}}` };
    },
  };
}
