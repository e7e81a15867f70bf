/** Opens `target` (inside the trusted `base`) for appending without following any link on the way; see no-follow-open.mjs. */
export function openAppendNoFollow(base: string, target: string, mode?: number): number;
