/** Opens `target` (inside the trusted `base`) for appending without following any link on the way; see no-follow-open.mjs. */
export function openAppendNoFollow(base: string, target: string, mode?: number): number;
/** The same for several targets, the directories on the way opened once for targets in one directory; all or none. */
export function openAppendAllNoFollow(base: string, targets: string[], mode?: number): number[];
