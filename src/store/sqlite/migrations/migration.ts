// One step of the SQLite schema. A store records the last step it has taken
// in `PRAGMA user_version`; the steps after it are applied in order, each in
// a transaction of its own together with its new version.

export interface Migration {
  /** Its place in the list, from 1; the number its file name starts with. */
  readonly version: number;
  /** The rest of its file name. */
  readonly name: string;
  /** The statements, run as one script. */
  readonly sql: string;
}
