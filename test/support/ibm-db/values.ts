// Values between ibm_db's buffers and the server: what a bound parameter holds
// (ODBC::GetParametersFromArray), what Db2 receives from it, and what the CLI
// writes back into an OUT buffer or a fetched column, in Db2's own text forms
// and the application code page (code-page.ts).
import { DIAGNOSTICS, SQL_C, SQL_TYPE, type Diagnostic } from './cli.js';
import { databaseBytes, fitApplication, toApplication, toDatabase } from './code-page.js';

/** Values as Db2 holds them: numbers, text (DECIMAL too), Date for TIMESTAMP, 'YYYY-MM-DD' for DATE. */
export type Db2Value = string | number | Date | null;

export interface Column {
  name: string;
  /** As Db2 declares it: INTEGER, BIGINT, DECIMAL(15,2), CHAR(6), VARCHAR(20), TIMESTAMP, DATE… */
  type: string;
}

/** What sits in a bound parameter's buffer (ODBC::GetParametersFromArray), by the C type it is labelled with. */
export type ParameterBuffer =
  | { kind: 'null' }
  | { kind: 'int64'; value: bigint }
  | { kind: 'double'; value: number }
  | { kind: 'chars'; value: string };

export interface BoundParameter {
  /** SQL_PARAM_INPUT 1, SQL_PARAM_INPUT_OUTPUT 2, SQL_PARAM_OUTPUT 4. */
  paramType: number;
  cType: number;
  sqlType: number;
  bufferLength: number;
  buffer: ParameterBuffer;
}

export const isOutput = (param: BoundParameter) => param.paramType % 2 === 0;

/** What the CLI writes back into an output parameter's buffer: text as application-code-page bytes. */
export type OutputBuffer = { kind: 'null' } | { kind: 'number'; value: number } | { kind: 'chars'; bytes: Buffer };

/** 'YYYY-MM-DD-HH.MM.SS.ffffff': a TIMESTAMP assigned to a character string by the server. */
export function db2TimestampText(value: Date | string): string {
  if (typeof value === 'string') return value;
  const iso = value.toISOString();
  return `${iso.slice(0, 10)}-${iso.slice(11, 13)}.${iso.slice(14, 16)}.${iso.slice(17, 19)}.${iso.slice(20, 23)}000`;
}

/** 'YYYY-MM-DD HH:MM:SS.ffffff': a TIMESTAMP fetched into SQL_C_CHAR by the CLI (TimestampDefaultCMapping=1 form). */
function cliTimestampText(value: Date | string): string {
  const text = db2TimestampText(value);
  return `${text.slice(0, 10)} ${text.slice(11, 13)}:${text.slice(14, 16)}:${text.slice(17)}`;
}

export function baseType(declared: string): { base: string; length?: number; scale?: number } {
  const [, base = declared, length, scale] = /^(\w+)(?:\((\d+)(?:,(\d+))?\))?$/.exec(declared.replace(/\s+/g, '').toUpperCase()) ?? [];
  return { base, ...(length ? { length: Number(length) } : {}), ...(scale ? { scale: Number(scale) } : {}) };
}

/** The text Db2 makes of a value of the declared type when it is assigned to a character host variable (CHAR pads to its bytes). */
function asDb2Text(declared: string, value: Exclude<Db2Value, null>): string {
  const { base, length, scale } = baseType(declared);
  if (base === 'TIMESTAMP') return db2TimestampText(value instanceof Date ? value : String(value));
  if (base === 'DECIMAL' || base === 'NUMERIC') return Number(value).toFixed(scale ?? 0);
  const text = String(value);
  if (base === 'CHAR') return text + ' '.repeat(Math.max(0, (length ?? 1) - databaseBytes(text)));
  return text;
}

export function typeOfValue(value: Db2Value): string {
  if (value instanceof Date) return 'TIMESTAMP';
  if (typeof value === 'number') return Number.isInteger(value) ? 'INTEGER' : 'DOUBLE';
  return 'VARCHAR';
}

/** What Db2 received for an input parameter: the buffer read as its C type says, text converted from the application code page. */
export function inputValue(param: BoundParameter, codePage: number): string | number | bigint | null {
  const { buffer } = param;
  if (buffer.kind === 'null') return null;
  if (param.cType === SQL_C.SBIGINT) {
    if (buffer.kind === 'int64') return Number(buffer.value);
    if (buffer.kind === 'double') {
      // ODBC::GetNumberParam leaves the SBIGINT label on a double: the CLI reads the double's bytes as an integer.
      const bytes = new DataView(new ArrayBuffer(8));
      bytes.setFloat64(0, buffer.value, true);
      return bytes.getBigInt64(0, true);
    }
  }
  if (buffer.kind === 'chars') return toDatabase(buffer.value, codePage);
  return Number(buffer.value);
}

/**
 * An input assigned to a procedure parameter or column of the declared type:
 * text longer than a CHAR(n) or VARCHAR(n) holds, in the database's bytes, is
 * SQL0302N (22001). Db2 SQL reference, "Assignments and comparisons" (string
 * assignments: storage assignment of a longer string is an error).
 */
export function assignmentFailure(declared: string | undefined, value: unknown): Diagnostic | null {
  if (declared === undefined || typeof value !== 'string') return null;
  const { base, length } = baseType(declared);
  if ((base === 'CHAR' || base === 'VARCHAR') && length !== undefined && databaseBytes(value.replace(/ +$/, '')) > length) return DIAGNOSTICS.tooLong;
  return null;
}

/** Text a CHAR-family buffer receives: the value as Db2 text, in the application code page, cut to the buffer (01004). */
function textForBuffer(declared: string, value: Exclude<Db2Value, null>, bufferBytes: number, codePage: number): { bytes: Buffer; truncated: boolean } {
  const text = asDb2Text(declared, value);
  const kept = fitApplication(text, bufferBytes, codePage);
  return { bytes: toApplication(kept, codePage), truncated: kept !== text };
}

/** SQLGetData of one column into the C type ODBC::GetColumnValue asks for; text as application-code-page bytes. */
export function columnData(column: Column, value: Db2Value, cType: number, codePage: number): number | Buffer | null {
  if (value === null) return null;
  if (cType === SQL_C.SLONG || cType === SQL_C.DOUBLE) return Number(value);
  if (baseType(column.type).base === 'TIMESTAMP') return toApplication(cliTimestampText(value instanceof Date ? value : String(value)), codePage);
  return toApplication(asDb2Text(column.type, value), codePage);
}

/** Db2 assigns the procedure's OUT value to the bound buffer; the CLI truncates text to the buffer (01004). */
export function writeOutput(declared: string, value: Db2Value, param: BoundParameter, codePage: number): { buffer: OutputBuffer; truncated: boolean } {
  if (value === null) return { buffer: { kind: 'null' }, truncated: false };
  const integerTypes: number[] = [SQL_TYPE.BIGINT, SQL_TYPE.INTEGER, SQL_TYPE.SMALLINT];
  if (integerTypes.includes(param.sqlType) && param.cType === SQL_C.SBIGINT) {
    return { buffer: { kind: 'number', value: Math.trunc(Number(value)) }, truncated: false };
  }
  const floatingTypes: number[] = [SQL_TYPE.DOUBLE, SQL_TYPE.DECIMAL, SQL_TYPE.FLOAT, SQL_TYPE.REAL];
  if (floatingTypes.includes(param.sqlType) && param.cType === SQL_C.DOUBLE && !(value instanceof Date)) {
    return { buffer: { kind: 'number', value: Number(value) }, truncated: false };
  }
  const textTypes: number[] = [SQL_TYPE.VARCHAR, SQL_TYPE.CHAR, SQL_TYPE.LONGVARCHAR];
  if (textTypes.includes(param.sqlType) && param.cType === SQL_C.CHAR) {
    const { bytes, truncated } = textForBuffer(declared, value, Math.max(0, param.bufferLength - 1), codePage);
    return { buffer: { kind: 'chars', bytes }, truncated };
  }
  throw new Error(`stand-in: an OUT parameter of SQL type ${param.sqlType} in a C type ${param.cType} buffer is not modelled`);
}
