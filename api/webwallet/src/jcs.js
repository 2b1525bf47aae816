/**
 * RFC 8785 JSON Canonicalization Scheme, byte for byte as credentials/jcs.py produces it.
 *
 * Numbers print as ECMAScript's Number.prototype.toString does (RFC 8785 section 3.2.2.3
 * defines them that way), strings as JSON.stringify escapes them (section 3.2.2.2: the same
 * seven short escapes, other controls as lowercase \u00xx), object members sorted by UTF-16
 * code units (section 3.2.3), which is JavaScript's default string order. Tested against the
 * RFC's vectors in tests/vectors/jcs, as the Python side is.
 */

const ENCODER = new TextEncoder();

function serialize(value, out) {
  if (value === null || typeof value === "boolean") {
    out.push(String(value));
  } else if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new RangeError("JCS has no NaN or Infinity");
    out.push(Object.is(value, -0) ? "0" : String(value));
  } else if (typeof value === "string") {
    out.push(JSON.stringify(value));
  } else if (Array.isArray(value)) {
    out.push("[");
    value.forEach((item, index) => {
      if (index) out.push(",");
      serialize(item, out);
    });
    out.push("]");
  } else if (typeof value === "object") {
    out.push("{");
    Object.keys(value)
      .sort()
      .forEach((key, index) => {
        if (index) out.push(",");
        out.push(JSON.stringify(key), ":");
        serialize(value[key], out);
      });
    out.push("}");
  } else {
    throw new TypeError("JCS takes JSON values only");
  }
}

/** The canonical JSON text of a JSON value. */
export function canonicalText(value) {
  const out = [];
  serialize(value, out);
  return out.join("");
}

/** The canonical UTF-8 bytes of a JSON value (what is hashed and signed). */
export function canonicalize(value) {
  return ENCODER.encode(canonicalText(value));
}
