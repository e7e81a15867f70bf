// Container registry passwords are kept (a node pulls its images with them)
// and never answered. Registries sit in many places — a pool's
// containerConfiguration, any task's containerSettings (tasks, start tasks,
// job manager, preparation and release tasks, in jobs, schedules and auto
// pools) — so every answer passes here once, rather than each route
// remembering each place.

const REGISTRY_KEYS = ['"registry"', '"containerRegistries"'];

/** The value without any `registry.password` or `containerRegistries[].password`; the same object when it holds none. */
export function withoutRegistrySecrets<T>(value: T): T {
  return scrub(value, false) as T;
}

/** For answers already serialized: parsed only when the text names a registry at all. */
export function jsonWithoutRegistrySecrets(json: string): string {
  if (!REGISTRY_KEYS.some((key) => json.includes(key))) return json;
  const parsed: unknown = JSON.parse(json);
  const scrubbed = withoutRegistrySecrets(parsed);
  return scrubbed === parsed ? json : JSON.stringify(scrubbed);
}

/** `isRegistry`: the value is a registry (its password goes). Copies only what changes. */
function scrub(value: unknown, isRegistry: boolean): unknown {
  if (Array.isArray(value)) {
    let changed = false;
    const items = value.map((item) => {
      const next = scrub(item, isRegistry);
      changed ||= next !== item;
      return next;
    });
    return changed ? items : value;
  }
  if (value === null || typeof value !== 'object') return value;
  let copy: Record<string, unknown> | undefined;
  const source = value as Record<string, unknown>;
  if (isRegistry && 'password' in source) {
    copy = { ...source };
    delete copy.password;
  }
  for (const [key, child] of Object.entries(source)) {
    if (isRegistry && key === 'password') continue;
    const next = scrub(child, key === 'registry' || key === 'containerRegistries');
    if (next === child) continue;
    copy ??= { ...source };
    copy[key] = next;
  }
  return copy ?? value;
}
