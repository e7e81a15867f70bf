// Formatting and masking for display.

export function when(value: string | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function duration(fromIso: string | undefined, toIso: string | undefined): string {
  if (!fromIso) return '—';
  const ms = (toIso ? new Date(toIso).getTime() : Date.now()) - new Date(fromIso).getTime();
  if (!(ms >= 0)) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

export const count = (value: number) => value.toLocaleString('en-US');

/** Environment variables whose names say they hold a secret: their values are never shown. */
const SECRET_NAME = /(key|secret|token|passw|pwd|sas|credential|connection_?string|auth)/i;

export const MASK = '••••••••';

export function maskedValue(name: string, value: string | undefined): string {
  return SECRET_NAME.test(name) ? MASK : (value ?? '');
}

/** A URL with its SAS signature (and any other secret-looking query value) masked. */
export function maskedUrl(url: string | undefined): string {
  if (!url) return '';
  return url.replace(/([?&])(sig|se?cret|token|key|password)=[^&]*/gi, `$1$2=${MASK}`);
}
