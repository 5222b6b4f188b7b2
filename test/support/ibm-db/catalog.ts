// What the scripted server knows of its procedures: every parameter's
// direction and declared type, read from the Db2 migrations (the last CREATE
// of a procedure wins), so a CALL is checked and answered with the types Db2
// would use. The server never runs the SQL PL itself.
import { loadMigrations } from '../../../db/migrate.js';

export interface DeclaredParameter {
  direction: 'IN' | 'OUT' | 'INOUT';
  /** As declared, upper case without blanks: VARCHAR(140), DECIMAL(15,2), TIMESTAMP. */
  type: string;
}

type Catalog = Map<string, DeclaredParameter[]>;
let catalog: Promise<Catalog> | undefined;

function readCatalog(): Promise<Catalog> {
  catalog ??= loadMigrations('db2').then((migrations) => {
    const found: Catalog = new Map();
    const sql = migrations.map((m) => m.sql).join('\n');
    for (const [, name = '', params = ''] of sql.matchAll(/CREATE\s+(?:OR\s+REPLACE\s+)?PROCEDURE\s+(?:\S+\.)?(\w+)\s*\(([\s\S]*?)\)\s*(?:LANGUAGE|SPECIFIC)/gi)) {
      const declared: DeclaredParameter[] = [];
      for (const raw of params.replace(/--.*$/gm, '').split(/,(?![^(]*\))/)) {
        const [, direction = 'IN', type = ''] = /^\s*(IN|OUT|INOUT)\s+\w+\s+(\w+(?:\s*\([\d,\s]+\))?)/i.exec(raw) ?? [];
        const upper = direction.toUpperCase();
        declared.push({ direction: upper === 'OUT' || upper === 'INOUT' ? upper : 'IN', type: type.replace(/\s+/g, '').toUpperCase() });
      }
      found.set(name.toUpperCase(), declared);
    }
    return found;
  });
  return catalog;
}

/** The declared parameters of the procedure a CALL names, in order; undefined for any other statement. */
export async function declaredParameters(sql: string): Promise<DeclaredParameter[] | undefined> {
  const name = /^CALL\s+(?:\S+\.)?(\w+)/i.exec(sql.trim())?.[1]?.toUpperCase();
  return name ? (await readCatalog()).get(name) : undefined;
}
