/** The part of `document` that page-visibility needs; absent outside browsers. */
interface VisibilityDocument {
  readonly visibilityState: string;
  addEventListener(type: 'visibilitychange', listener: () => void): void;
  removeEventListener(type: 'visibilitychange', listener: () => void): void;
}

/**
 * Calls `onChange(hidden)` on every `visibilitychange` of the global `document`. Returns
 * undefined where there is no document (Node, workers), so callers simply never pause there.
 */
export function watchVisibility(
  onChange: (hidden: boolean) => void,
): { hidden: boolean; stop: () => void } | undefined {
  const doc = (globalThis as unknown as { document?: VisibilityDocument }).document;
  if (!doc || typeof doc.addEventListener !== 'function') return undefined;
  const listener = (): void => onChange(doc.visibilityState === 'hidden');
  doc.addEventListener('visibilitychange', listener);
  return {
    hidden: doc.visibilityState === 'hidden',
    stop: () => doc.removeEventListener('visibilitychange', listener),
  };
}
