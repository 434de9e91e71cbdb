import { SseHubError } from '../../errors.js';
import type { TopicMatcher } from './types.js';

/**
 * The selectors a token grants, as `granted` reads them: the selector fields of auth's `Claims`
 * (declared here so that selectors/ need not know about tokens).
 */
export interface GrantedSelectors {
  readonly publish?: readonly string[] | undefined;
  readonly subscribe?: readonly string[] | undefined;
  readonly publishMatchers?: readonly TopicMatcher[] | undefined;
  readonly subscribeMatchers?: readonly TopicMatcher[] | undefined;
}

import {
  type CompiledSelector,
  compileSelector,
  DEFAULT_MAX_SELECTOR_COST,
  type MatcherKind,
} from './topic-selector.js';

/**
 * Compiles selectors for this hub: the hub's URL is the base of relative URL patterns and topics
 * (draft 08). Compiled matchers are cached by `compileSelector` (a bounded LRU shared by every
 * subscription, token and request using the same selector), so compiling happens once per
 * distinct selector, not once per use.
 */
export class MatcherCache {
  readonly #options: { baseURL: string; maxCost: number };

  /** `maxSelectorCost`: the budget of one compiled selector (the hub's `maxSelectorCost`). */
  constructor(baseURL: string, maxSelectorCost: number = DEFAULT_MAX_SELECTOR_COST) {
    this.#options = { baseURL, maxCost: maxSelectorCost };
  }

  /**
   * The compiled matcher of `source`; throws INVALID_TOPIC when it does not compile, and
   * SELECTOR_TOO_COMPLEX past `maxCost` (default: the budget given to the constructor).
   */
  get(source: string, kind: MatcherKind, maxCost?: number): CompiledSelector {
    const options =
      maxCost === undefined ? this.#options : { baseURL: this.#options.baseURL, maxCost };
    return compileSelector(source, kind, options);
  }

  /** The matchers of `sources` (e.g. a token's claims), in order. */
  all(sources: readonly string[] | undefined, kind: MatcherKind): TopicMatcher[] {
    if (sources === undefined) return [];
    return sources.map((source) => this.get(source, kind));
  }

  /**
   * The compiled selectors a token grants for `action`: the authorizer's own matchers when it gave
   * them (draft 08 mixes syntaxes), else the claim strings read as draft 07 templates. Throws
   * INVALID_TOKEN when a claim selector does not compile.
   */
  granted(
    claims: GrantedSelectors | undefined,
    action: 'publish' | 'subscribe',
  ): readonly TopicMatcher[] {
    if (claims === undefined) return [];
    const compiled = action === 'publish' ? claims.publishMatchers : claims.subscribeMatchers;
    if (compiled !== undefined) return compiled;
    try {
      return this.all(claims[action], 'template');
    } catch (cause) {
      // A selector in the token that does not compile is a defect of the token, not the request.
      throw new SseHubError('INVALID_TOKEN', `a ${action} selector does not compile`, { cause });
    }
  }
}
