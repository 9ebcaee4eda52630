// How numbers, sizes and dates read on the page.

const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'];

/**
 * A size for people: "532 bytes", "1.2 MB", "3.4 GB" (powers of 1000, as
 * operating systems' file managers mostly show them).
 * @param {number} bytes
 */
export function humanSize(bytes) {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return new Intl.NumberFormat(undefined, {
    style: 'unit',
    unit: units[unit],
    unitDisplay: unit === 0 ? 'long' : 'short',
    maximumFractionDigits: unit === 0 || value >= 100 ? 0 : 1,
  }).format(value);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/**
 * An RFC 3339 time as a short local date and time; the input unchanged if it
 * does not parse.
 * @param {string} rfc3339
 */
export function humanDate(rfc3339) {
  const d = new Date(rfc3339);
  return Number.isNaN(d.getTime()) ? rfc3339 : dateTime.format(d);
}

/**
 * The local calendar date as YYYY-MM-DD.
 * @param {Date} [date]
 */
export function isoDay(date = new Date()) {
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/**
 * "1 contact", "3 notes".
 * @param {number} n
 * @param {string} one
 * @param {string} many
 */
export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Percentage of done/total for a progress readout.
 * @param {number} done
 * @param {number} total
 */
export function percent(done, total) {
  if (!total) return '';
  return `${Math.min(100, Math.floor((done / total) * 100))}%`;
}
