// Character conversion between ibm_db and the database, as the CLI does it.
// ibm_db's Linux build has UNICODE off (binding.gyp's second 'conditions' key
// replaces the first, which defined it), so it hands the CLI a JavaScript
// string as its UTF-8 bytes (ODBC::GetStringParam: Utf8Value) and reads text
// back as UTF-8 (ODBC::GetColumnValue, GetOutputParameter:
// Napi::String::New(env, char *)). The CLI reads and writes those bytes in the
// application code page, and converts to and from the database code page.

/** UTF-8, and the database code page here: a Db2 LUW database is created in Unicode unless told otherwise. */
export const UTF8 = 1208;
/** ISO 8859-1: the C and POSIX locales' code page, and glibc's for a locale that names no codeset. */
export const ISO_8859_1 = 819;
/** What the CLI writes for a character the target code page cannot represent (SUB, X'1A'). */
const SUBSTITUTION = 0x1a;
/** A code page the stand-in does not convert: ASCII passes (every Linux codeset keeps it), anything else throws. */
const UNMODELLED = 0;

/**
 * The application code page, "derived from the active environment when the
 * database connection is made": DB2CODEPAGE if set, else the locale
 * (LC_ALL, LC_CTYPE, LANG, in POSIX order). IBM Db2 11.5, "Derivation of code
 * page values": https://www.ibm.com/docs/en/db2/11.5.x?topic=support-derivation-code-page-values
 */
export function applicationCodePage(env: NodeJS.ProcessEnv = process.env): number {
  const set = env.DB2CODEPAGE?.trim();
  if (set) return Number(set) === UTF8 || Number(set) === ISO_8859_1 ? Number(set) : UNMODELLED;
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || 'C';
  const codeset = (/\.([^@]+)/.exec(locale)?.[1] ?? '').toLowerCase().replace(/[^a-z0-9]/g, '');
  if (codeset === 'utf8') return UTF8;
  return codeset === '' || codeset === 'iso88591' ? ISO_8859_1 : UNMODELLED;
}

function modelled(text: string, codePage: number): void {
  if (codePage === UNMODELLED && [...text].some((character) => (character.codePointAt(0) ?? 0) > 0x7f)) {
    throw new Error('ibm_db stand-in: non-ASCII text in a code page other than 1208 or 819 is not modelled (set DB2CODEPAGE or LANG)');
  }
}

/** The database's text for a string ibm_db handed the CLI: its UTF-8 bytes read in the application code page. */
export function toDatabase(text: string, codePage: number): string {
  modelled(text, codePage);
  const bytes = Buffer.from(text, 'utf8');
  return codePage === UTF8 ? bytes.toString('utf8') : bytes.toString('latin1');
}

/** The bytes the CLI writes for database text in the application code page. */
export function toApplication(text: string, codePage: number): Buffer {
  modelled(text, codePage);
  if (codePage === UTF8) return Buffer.from(text, 'utf8');
  return Buffer.from([...text].map((character) => {
    const point = character.codePointAt(0) ?? SUBSTITUTION;
    return point <= 0xff ? point : SUBSTITUTION;
  }));
}

/** What ibm_db makes of bytes the CLI wrote: UTF-8, each invalid sequence a U+FFFD. */
export const fromApplication = (bytes: Buffer): string => bytes.toString('utf8');

/** Bytes of database text: what VARCHAR(n) and CHAR(n) count in a Unicode database (string units OCTETS). */
export const databaseBytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** The longest start of `text` whose application-code-page bytes fit in `bytes`, in whole characters (a split one is not modelled). */
export function fitApplication(text: string, bytes: number, codePage: number): string {
  let out = text;
  while (out && toApplication(out, codePage).length > bytes) out = [...out].slice(0, -1).join('');
  return out;
}
