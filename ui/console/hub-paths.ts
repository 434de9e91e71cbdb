// Paths below the hub's, as the hub itself forms them (subscriptionsPrefix in
// src/hub/core/subscription-documents.ts): a hub at `/` has its subscriptions at `/subscriptions`,
// not `//subscriptions` (which a URL reads as the host "subscriptions").

/** `{hub path}/subscriptions`: the active-subscriptions API and the subscription topics. */
export function subscriptionsPath(hubPath: string): string {
  return `${hubPath === '/' ? '' : hubPath}/subscriptions`;
}
