// The PATH that Lapis's own child processes (tasks, useradd, the container
// engine) start with: the system directories only, never the server's PATH.

export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
