/** A compiled topic selector. */
export interface TopicMatcher {
  /** The selector as given. */
  readonly source: string;
  /** True for `*`, templates and URL patterns: these must be scanned, not looked up. */
  readonly isPattern: boolean;
  matches(topic: string): boolean;
}

/** How a selector string is read: draft 07 `topic=` (exact, `*` or RFC 6570 template) or a WHATWG URL pattern. */
export type SelectorSyntax = 'template' | 'urlpattern';
