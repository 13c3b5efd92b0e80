/*
 * mi.ts — GDB/MI (mi3) output parser (pure).
 *
 *   output  → ( out-of-band-record )* [ result-record ] "(gdb)"
 *   result  → [token] "^" class ( "," name "=" value )*
 *   async   → [token] ("*" exec | "+" status | "=" notify) class ( "," result )*
 *   stream  → ("~" console | "@" target | "&" log) c-string
 *   value   → c-string | "{" results "}" | "[" (values | results) "]"
 *
 * Tuples become plain objects (a repeated key becomes an array), lists become
 * arrays (names in result lists are dropped: [frame={..},frame={..}] → [{..},{..}]).
 * C-strings: \n \t \" \\ and octal \NNN bytes, decoded as UTF-8. parseMiLine never
 * throws: a malformed line becomes { type: 'unparsed', error }.
 */

export type MiValue = string | MiTuple | MiValue[];
export interface MiTuple { [key: string]: MiValue }

export type MiRecord =
  | { type: 'result'; token?: number; class: string; data: MiTuple }
  | { type: 'exec' | 'status' | 'notify'; token?: number; class: string; data: MiTuple }
  | { type: 'console' | 'target' | 'log'; text: string }
  | { type: 'prompt' }
  | { type: 'unparsed'; text: string; error: string };

class MiSyntaxError extends Error {}

class P {
  i = 0;
  constructor(readonly s: string) {}
  fail(what: string): never {
    throw new MiSyntaxError(`${what} at column ${this.i + 1}`);
  }
  peek(): string { return this.s[this.i] ?? ''; }
  eat(c: string): void {
    if (this.s[this.i] !== c) this.fail(`expected "${c}" but found ${this.i < this.s.length ? `"${this.s[this.i]}"` : 'end of line'}`);
    this.i++;
  }
  cstring(): string {
    this.eat('"');
    const bytes: number[] = [];
    for (;;) {
      if (this.i >= this.s.length) this.fail('unterminated string');
      const c = this.s[this.i++]!;
      if (c === '"') break;
      if (c !== '\\') {
        const cp = c.codePointAt(0)!;
        if (cp < 0x80) bytes.push(cp);
        else {
          const enc = new TextEncoder().encode(c);
          bytes.push(...enc);
        }
        continue;
      }
      const e = this.s[this.i++];
      switch (e) {
        case 'n': bytes.push(10); break;
        case 't': bytes.push(9); break;
        case 'r': bytes.push(13); break;
        case 'f': bytes.push(12); break;
        case 'v': bytes.push(11); break;
        case 'a': bytes.push(7); break;
        case 'b': bytes.push(8); break;
        case 'e': bytes.push(27); break;
        case '"': bytes.push(34); break;
        case '\\': bytes.push(92); break;
        case "'": bytes.push(39); break;
        case undefined: this.fail('unterminated escape');
        // falls through (fail never returns)
        default:
          if (/[0-7]/.test(e)) {
            let oct = e;
            while (oct.length < 3 && /[0-7]/.test(this.s[this.i] ?? '')) oct += this.s[this.i++];
            bytes.push(parseInt(oct, 8) & 0xff);
          } else bytes.push(e.charCodeAt(0));
      }
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  }
  name(): string {
    const m = /^[A-Za-z_][\w\-.]*/.exec(this.s.slice(this.i));
    if (!m) this.fail('expected a variable name');
    this.i += m[0].length;
    return m[0];
  }
  value(): MiValue {
    const c = this.peek();
    if (c === '"') return this.cstring();
    if (c === '{') {
      this.i++;
      const t: MiTuple = {};
      if (this.peek() === '}') { this.i++; return t; }
      for (;;) {
        this.result(t);
        if (this.peek() === ',') { this.i++; continue; }
        this.eat('}');
        return t;
      }
    }
    if (c === '[') {
      this.i++;
      const l: MiValue[] = [];
      if (this.peek() === ']') { this.i++; return l; }
      for (;;) {
        if (this.peek() === '"' || this.peek() === '{' || this.peek() === '[') l.push(this.value());
        else { const t: MiTuple = {}; this.result(t); l.push(Object.values(t)[0]!); }
        if (this.peek() === ',') { this.i++; continue; }
        this.eat(']');
        return l;
      }
    }
    return this.fail('expected a value ("…", {…} or […])');
  }
  result(into: MiTuple): void {
    const n = this.name();
    this.eat('=');
    const v = this.value();
    if (n in into) {
      const prev = into[n]!;
      into[n] = Array.isArray(prev) && (prev as MiValue[] & { dup?: true }).dup ? [...prev, v] : Object.assign([prev, v], { dup: true });
    } else into[n] = v;
  }
  results(): MiTuple {
    const t: MiTuple = {};
    while (this.peek() === ',') {
      this.i++;
      this.result(t);
    }
    if (this.i < this.s.length) this.fail(`unexpected "${this.s.slice(this.i, this.i + 10)}"`);
    return t;
  }
}

export function parseMiLine(line: string): MiRecord {
  const text = line.replace(/\r?\n$/, '');
  if (/^\(gdb\)\s*$/.test(text)) return { type: 'prompt' };
  try {
    const p = new P(text);
    const m = /^\d+/.exec(text);
    const token = m ? Number(m[0]) : undefined;
    if (m) p.i = m[0].length;
    const kind = p.peek();
    p.i++;
    switch (kind) {
      case '~': case '@': case '&': {
        if (token !== undefined) p.fail('stream records have no token');
        const s = p.cstring();
        if (p.i < text.length) p.fail('text after stream record');
        return { type: kind === '~' ? 'console' : kind === '@' ? 'target' : 'log', text: s };
      }
      case '^': case '*': case '+': case '=': {
        const cls = /^[a-z][\w-]*/.exec(text.slice(p.i));
        if (!cls) return p.fail('expected a record class');
        p.i += cls[0].length;
        const data = p.results();
        const type = kind === '^' ? 'result' : kind === '*' ? 'exec' : kind === '+' ? 'status' : 'notify';
        return { type, ...(token !== undefined ? { token } : {}), class: cls[0], data } as MiRecord;
      }
      default:
        return { type: 'unparsed', text, error: `not an MI record (starts with "${text.slice(0, 1)}")` };
    }
  } catch (e) {
    if (e instanceof MiSyntaxError) return { type: 'unparsed', text, error: `malformed MI record: ${e.message}` };
    throw e;
  }
}

/** Quote a string as an MI c-string argument. */
export function miQuote(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
}

/* small typed accessors */
export function miStr(v: MiValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
export function miTuple(v: MiValue | undefined): MiTuple | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}
export function miList(v: MiValue | undefined): MiValue[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}
