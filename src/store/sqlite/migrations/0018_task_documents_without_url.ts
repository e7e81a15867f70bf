// Migration 0018: a stored task document has no `url` of its own. Task_Add
// passes unknown properties through, so a client's `url` could be stored, and
// was then answered in place of the task's URL; Task_List now splices the URL
// into the stored JSON on the promise that the document has none
// (core/task.ts createTask leaves it out).

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 18,
  name: 'task_documents_without_url',
  sql: `
  UPDATE tasks SET doc = json_remove(doc, '$.url') WHERE json_type(doc, '$.url') IS NOT NULL;
  `,
};
