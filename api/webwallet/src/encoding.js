/**
 * Small helpers the credential checks share: base58btc and base64url as Tongban's Python reads
 * them, and the few places where Python and JavaScript read a string or a value differently
 * (length in code points, code point order, Python's str.isspace, JSON equality).
 */

const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const BASE58_VALUE = new Map([...BASE58].map((char, index) => [char, BigInt(index)]));

// Python's str.isspace, which str.rstrip() strips (and JavaScript's \s does not quite match).
const PY_SPACE =
  /[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;

/** Whether one character is white space for Python's str.isspace. */
export function isPySpace(char) {
  return PY_SPACE.test(char);
}

/** A string's length in code points (Python's len). */
export function pyLength(text) {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** Compare two strings by code point, as Python does (-1, 0, 1). */
export function compareCodePoints(a, b) {
  const left = [...a];
  const right = [...b];
  const shorter = Math.min(left.length, right.length);
  for (let i = 0; i < shorter; i++) {
    const x = left[i].codePointAt(0);
    const y = right[i].codePointAt(0);
    if (x !== y) return x < y ? -1 : 1;
  }
  return left.length === right.length ? 0 : left.length < right.length ? -1 : 1;
}

/**
 * The bytes of base58btc text as the Python ``base58`` package decodes it: trailing white
 * space is ignored, each leading "1" is a zero byte; throws on any other character.
 */
export function base58Decode(text) {
  let end = text.length;
  while (end > 0 && isPySpace(text[end - 1])) end -= 1;
  const body = text.slice(0, end);
  let zeros = 0;
  while (zeros < body.length && body[zeros] === "1") zeros += 1;
  let value = 0n;
  for (const char of body.slice(zeros)) {
    const digit = BASE58_VALUE.get(char);
    if (digit === undefined) throw new RangeError("not base58btc");
    value = value * 58n + digit;
  }
  const bytes = [];
  while (value > 0n) {
    bytes.push(Number(value & 0xffn));
    value >>= 8n;
  }
  return Uint8Array.from([...new Array(zeros).fill(0), ...bytes.reverse()]);
}

/** Whether a value is a JSON object (not an array, not null). */
export function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Whether an object has a member of its own (never one inherited). */
export function has(object, name) {
  return Object.prototype.hasOwnProperty.call(object, name);
}

/** A member of an object, or undefined (never an inherited property). */
export function get(object, name) {
  return has(object, name) ? object[name] : undefined;
}

/** Whether a value is a JSON integer (Python's int after a JSON round trip). */
export function isInteger(value) {
  return typeof value === "number" && Number.isInteger(value);
}

/**
 * Python's == on decoded JSON: numbers and booleans compare as numbers (True == 1), lists
 * item by item, objects member by member whatever the order.
 */
export function pyEquals(a, b) {
  const numeric = (v) => typeof v === "number" || typeof v === "boolean";
  if (numeric(a) && numeric(b)) return Number(a) === Number(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => pyEquals(item, b[i]))
    );
  }
  if (isObject(a) || isObject(b)) {
    if (!isObject(a) || !isObject(b)) return false;
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((k) => has(b, k) && pyEquals(a[k], b[k]))
    );
  }
  return a === b;
}

/** Lowercase hex of bytes. */
export function hex(bytes) {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** Bytes of lowercase or uppercase hex (the caller checked the form). */
export function fromHex(text) {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Whether two byte arrays are equal. */
export function sameBytes(a, b) {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** The concatenation of byte arrays. */
export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
