/** The calendar month (YYYY-MM) `now` falls in, in `timeZone`: what RELAY_MONTHLY_PUSH_CAP counts by. */
export function pushMonthOf(now: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit" }).formatToParts(new Date(now));
  const year = parts.find((part) => part.type === "year")?.value;
  const month = parts.find((part) => part.type === "month")?.value;
  return `${year}-${month}`;
}

/** LINE's answer (429) when the channel has no messages left this month (developers.line.biz/en/reference/messaging-api/#status-codes). */
export function isLineMonthlyLimit(status: number | null, message: string): boolean {
  return status === 429 && /monthly limit/i.test(message);
}
