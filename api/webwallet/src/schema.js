/**
 * The JSON Schema subset of credentials/schema.py, for the packaged certificate schemas: the
 * same keywords, the same order of checks, so the same first failure. Formats ``date``
 * (YYYY-MM-DD, a real calendar date) and ``date-time`` (UTC, at most milliseconds).
 */
import { get, has, isObject, pyLength } from "./encoding.js";

const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/u;
const DATE_TIME =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])(\.[0-9]{1,3})?Z$/u;

/** Days in a month of the proleptic Gregorian calendar. */
export function daysInMonth(year, month) {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/** Whether year, month, day is a date Python's datetime.date accepts (years 1-9999). */
export function isCalendarDate(year, month, day) {
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** Whether a string is a ``date`` or a UTC ``date-time`` as credentials/schema.py defines them. */
export function validateFormat(kind, value) {
  const match = (kind === "date" ? DATE : DATE_TIME).exec(value);
  return match !== null && isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]));
}

/** A failure of the schema: the JSON pointer and the rule (no value). */
export class SchemaViolation extends Error {
  constructor(pointer, rule) {
    super(`${pointer}: ${rule}`);
    this.name = "SchemaViolation";
    this.pointer = pointer;
    this.rule = rule;
  }
}

function escape(token) {
  return token.replaceAll("~", "~0").replaceAll("/", "~1");
}

// JSON equality: 1 == 1.0, true != 1, member order does not matter.
function same(a, b) {
  if (typeof a === "boolean" || typeof b === "boolean") return a === b;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => same(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => has(b, k) && same(a[k], b[k]));
  }
  if (Array.isArray(a) || Array.isArray(b) || isObject(a) || isObject(b)) return false;
  return a === b;
}

function kindOf(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value; // "object", "string", "number", "boolean"
}

function typeAllows(kinds, value) {
  const kind = kindOf(value);
  return kinds.some((k) => {
    if (k === "integer") return kind === "number" && Number.isInteger(value);
    if (k === "number") return kind === "number";
    return k === kind;
  });
}

const compiled = new WeakMap();

function compile(schema) {
  if (schema === true) return () => {};
  if (schema === false || !isObject(schema)) {
    return (value, pointer) => {
      throw new SchemaViolation(pointer, "is not allowed here");
    };
  }
  const cached = compiled.get(schema);
  if (cached) return cached;
  const kinds = has(schema, "type")
    ? Array.isArray(schema.type)
      ? schema.type
      : [schema.type]
    : null;
  const typeRule = kinds ? `must be of type ${kinds.join("/")}` : "";
  const hasConst = has(schema, "const");
  const enumValues = get(schema, "enum");
  const enumStrings =
    enumValues !== undefined && enumValues.every((e) => typeof e === "string")
      ? new Set(enumValues)
      : null;
  const minLength = get(schema, "minLength");
  const maxLength = get(schema, "maxLength");
  const pattern = has(schema, "pattern") ? new RegExp(schema.pattern, "u") : null;
  const format = get(schema, "format");
  const minimum = get(schema, "minimum");
  const maximum = get(schema, "maximum");
  const minItems = get(schema, "minItems");
  const maxItems = get(schema, "maxItems");
  const items = has(schema, "items") ? compile(schema.items) : null;
  const required = get(schema, "required") ?? [];
  const properties = new Map(
    Object.entries(get(schema, "properties") ?? {}).map(([k, v]) => [k, compile(v)]),
  );
  const extra = compile(has(schema, "additionalProperties") ? schema.additionalProperties : true);

  const run = (value, pointer, waived) => {
    const kind = kindOf(value);
    if (kinds !== null && !typeAllows(kinds, value)) throw new SchemaViolation(pointer, typeRule);
    if (hasConst && !same(schema.const, value)) {
      throw new SchemaViolation(pointer, "must equal the schema's constant");
    }
    if (enumValues !== undefined) {
      const listed =
        enumStrings !== null
          ? kind === "string" && enumStrings.has(value)
          : enumValues.some((option) => same(option, value));
      if (!listed) throw new SchemaViolation(pointer, "must be one of the schema's listed values");
    }
    if (kind === "string") {
      const length = pyLength(value);
      if (minLength !== undefined && length < minLength) {
        throw new SchemaViolation(pointer, `must be at least ${minLength} chars`);
      }
      if (maxLength !== undefined && length > maxLength) {
        throw new SchemaViolation(pointer, `must be at most ${maxLength} chars`);
      }
      if (pattern !== null && !pattern.test(value)) {
        throw new SchemaViolation(pointer, "does not match the schema's pattern");
      }
      if (format !== undefined && !validateFormat(format, value)) {
        throw new SchemaViolation(pointer, `must be a valid ${format}`);
      }
    } else if (kind === "number") {
      if (minimum !== undefined && value < minimum) {
        throw new SchemaViolation(pointer, `must be at least ${minimum}`);
      }
      if (maximum !== undefined && value > maximum) {
        throw new SchemaViolation(pointer, `must be at most ${maximum}`);
      }
    } else if (kind === "array") {
      if (minItems !== undefined && value.length < minItems) {
        throw new SchemaViolation(pointer, `must have at least ${minItems} items`);
      }
      if (maxItems !== undefined && value.length > maxItems) {
        throw new SchemaViolation(pointer, `must have at most ${maxItems} items`);
      }
      if (items !== null) value.forEach((item, i) => items(item, `${pointer}/${i}`, waived));
    } else if (kind === "object") {
      const skip = waived.get(pointer);
      for (const name of required) {
        if (!has(value, name) && !(skip && skip.has(name))) {
          throw new SchemaViolation(`${pointer}/${escape(name)}`, "is required");
        }
      }
      for (const [name, member] of Object.entries(value)) {
        (properties.get(name) ?? extra)(member, `${pointer}/${escape(name)}`, waived);
      }
    }
  };
  compiled.set(schema, run);
  return run;
}

/**
 * Check ``instance`` against ``schema``; throws SchemaViolation at the first failure.
 * ``notRequired``: a Map from a pointer to the Set of names whose ``required`` is waived there.
 */
export function validate(schema, instance, { notRequired = new Map(), at = "" } = {}) {
  compile(schema)(instance, at, notRequired);
}
