// Money as the contract writes it: a decimal string with at most two places,
// never a float ("1250.00"). One home for its shape, its normal form and its
// comparison (in whole cents, integers), for the request schemas, the
// transfer signature, the step-up threshold, the idempotency digest, the
// configuration and the host's answers alike.

/** Digits before the point that DECIMAL(15,2), the host's money columns, holds. */
export const MONEY_DIGITS = 13;

/** An amount in: at most `integerDigits` digits before the point and two after, no sign, no exponent. */
export const amountPattern = (integerDigits = MONEY_DIGITS): RegExp => new RegExp(`^\\d{1,${integerDigits}}(\\.\\d{1,2})?$`);

const AMOUNT = amountPattern();

/** An amount out: two places, negative for debits. */
export const SIGNED_AMOUNT = /^-?\d+\.\d{2}$/;

/** The amount in whole cents, exactly (no floating point on the way); null when it is not an amount. */
export function cents(amount: unknown): number | null {
  if (typeof amount !== 'string' || !AMOUNT.test(amount)) return null;
  const [whole = '0', fraction = ''] = amount.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

/**
 * A decimal with two places: "1250" → "1250.00", "-25.5" → "-25.50". For the
 * host's answers (drivers return decimals as text, with the column's scale or
 * none) and for amounts a client or an operator wrote.
 */
export function twoPlaces(decimal: string): string {
  const [whole = '0', fraction = ''] = decimal.split('.');
  return `${whole}.${fraction.padEnd(2, '0').slice(0, 2)}`;
}
