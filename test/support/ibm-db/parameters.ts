// The addon's values in and out (src/odbc.cpp): how ODBC::GetParametersFromArray
// binds what lib/odbc.js passes, how ODBC::GetOutputParameter reads an OUT
// buffer, and which C type ODBC::GetColumnValue asks SQLGetData for.
import { SQL_C, SQL_TYPE } from './cli.js';
import { fromApplication } from './code-page.js';
import { notModelled, toInt32 } from './native.js';
import type { Cursor, ScriptedDb2 } from './server.js';
import type { BoundParameter, Column, Db2Value, OutputBuffer } from './values.js';

const SQL_PARAM_INPUT = 1;

/** ODBC::GetParametersFromArray with GetStringParam, GetInt32Param, GetNumberParam, GetBoolParam and GetNullParam (UNICODE off). */
export function parametersFromArray(values: unknown[]): BoundParameter[] {
  return values.map((value) => {
    const param: BoundParameter = { paramType: SQL_PARAM_INPUT, cType: 0, sqlType: 0, bufferLength: 0, buffer: { kind: 'null' } };
    let data: unknown = value;
    if (Array.isArray(value)) {
      if (value.length < 4) throw new Error('Wrong param format!');
      const items: unknown[] = value;
      const [paramType, cType, sqlType, inner, bufferLength] = items;
      param.paramType = typeof paramType === 'number' ? toInt32(paramType) : SQL_PARAM_INPUT;
      param.cType = typeof cType === 'number' ? toInt32(cType) : SQL_C.CHAR;
      param.sqlType = typeof sqlType === 'number' ? toInt32(sqlType) : SQL_TYPE.CHAR;
      if (value.length === 5 && typeof bufferLength === 'number') param.bufferLength = toInt32(bufferLength);
      data = inner;
      if (param.paramType === 3 || param.paramType === 5) notModelled('file and data-at-execution parameters');
      if (typeof data === 'number' && param.sqlType === SQL_TYPE.DECIMAL) {
        // A number bound as DECIMAL skips the numeric branches and goes in as its text.
        stringParam(param, String(data));
        return param;
      }
    }
    if (data === null || data === undefined) nullParam(param);
    else if (typeof data === 'number') {
      if (data === toInt32(data)) int32Param(param, data);
      else numberParam(param, data);
    } else if (typeof data === 'boolean') boolParam(param, data);
    else if (typeof data === 'string') stringParam(param, data);
    else if (Buffer.isBuffer(data) || Array.isArray(data)) notModelled('Buffer and array parameters');
    else if (Array.isArray(value)) stringParam(param, String(data));
    return param;
  });
}

function nullParam(param: BoundParameter): void {
  param.cType ||= SQL_C.DEFAULT;
  param.sqlType ||= SQL_TYPE.VARCHAR;
  param.buffer = { kind: 'null' };
}

function int32Param(param: BoundParameter, value: number): void {
  // Int32Value: only 32 bits of the number reach the 64-bit buffer.
  param.buffer = { kind: 'int64', value: BigInt(toInt32(value)) };
  param.cType = SQL_C.SBIGINT;
  if (param.sqlType === 0 || param.sqlType === SQL_TYPE.CHAR) param.sqlType = SQL_TYPE.BIGINT;
}

function numberParam(param: BoundParameter, value: number): void {
  param.buffer = { kind: 'double', value };
  // The C type is kept when the caller gave one: a BIGINT label stays on a double.
  if (param.cType === 0 || param.cType === SQL_C.CHAR) param.cType = SQL_C.DOUBLE;
  if (param.sqlType === 0 || param.sqlType === SQL_TYPE.CHAR) param.sqlType = SQL_TYPE.DECIMAL;
  param.bufferLength = 8;
}

function boolParam(param: BoundParameter, value: boolean): void {
  param.buffer = { kind: 'int64', value: value ? 1n : 0n };
  param.cType = SQL_C.SBIGINT;
  if (param.sqlType === 0 || param.sqlType === SQL_TYPE.CHAR) param.sqlType = SQL_TYPE.BIGINT;
}

function stringParam(param: BoundParameter, text: string): void {
  const length = Buffer.byteLength(text, 'utf8');
  if (param.cType === 0 || param.cType === SQL_C.CHAR) param.cType = SQL_C.CHAR;
  if (param.sqlType === 0 || param.sqlType === SQL_TYPE.CHAR) param.sqlType = length >= 8000 ? SQL_TYPE.LONGVARCHAR : SQL_TYPE.VARCHAR;
  let bufferLength = length + 1;
  // An output buffer is as long as the caller's Length asked, plus the terminator.
  if (bufferLength <= param.bufferLength && param.paramType % 2 === 0) bufferLength = param.bufferLength + 1;
  param.bufferLength = bufferLength;
  param.buffer = { kind: 'chars', value: text };
}

/** ODBC::GetOutputParameter: read by the SQL type the parameter was bound with; text as UTF-8 (Napi::String::New(char *)). */
export function outputValue(param: BoundParameter, written: OutputBuffer | undefined): unknown {
  if (!written || written.kind === 'null') return null;
  const numeric: number[] = [SQL_TYPE.INTEGER, SQL_TYPE.SMALLINT, SQL_TYPE.TINYINT, SQL_TYPE.BOOLEAN, SQL_TYPE.NUMERIC, SQL_TYPE.BIGINT,
    SQL_TYPE.DECIMAL, SQL_TYPE.FLOAT, SQL_TYPE.DECFLOAT, SQL_TYPE.REAL, SQL_TYPE.DOUBLE];
  if (numeric.includes(param.sqlType)) {
    if (written.kind !== 'number') notModelled(`text written to a numeric (SQL type ${param.sqlType}) parameter`);
    return written.value;
  }
  return written.kind === 'chars' ? fromApplication(written.bytes) : String(written.value);
}

/**
 * ODBC::GetColumnValue: the C type asked of SQLGetData follows the column's
 * SQL type (SQL_DESC_CONCISE_TYPE under ODBC 3); text comes back as UTF-8.
 */
export function columnValue(db2: ScriptedDb2, cursor: Cursor, column: Column, value: Db2Value): unknown {
  const base = column.type.replace(/\(.*$/, '').trim().toUpperCase();
  // TIMESTAMP is SQL_TYPE_TIMESTAMP (93), not the SQL_TIMESTAMP (11) the C++ turns into a Date: it, BIGINT and the rest come as text.
  const cType = ['INTEGER', 'SMALLINT'].includes(base) ? SQL_C.SLONG
    : ['DECIMAL', 'NUMERIC', 'DECFLOAT', 'DOUBLE', 'FLOAT', 'REAL'].includes(base) ? SQL_C.DOUBLE : SQL_C.CHAR;
  const data = db2.getData(cursor, column, value, cType);
  return Buffer.isBuffer(data) ? fromApplication(data) : data;
}
