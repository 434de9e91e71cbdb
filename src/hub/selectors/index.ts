// Topic selectors: parsing and compiling templates and URL patterns into linear-time matchers.
// The bottom layer of the hub: imports nothing from auth/, core/, http/ or the top level.
export { type GrantedSelectors, MatcherCache } from './matcher-cache.js';
export {
  compileSubscriptionSelector,
  type Selector,
  type SelectorMode,
  selectorMatches,
} from './selector.js';
export {
  type CompiledSelector,
  compileSelector,
  DEFAULT_MAX_SELECTOR_COST,
  DEFAULT_MAX_SELECTOR_SET_COST,
  type MatcherKind,
  matchesAny,
  WILDCARD,
} from './topic-selector.js';
export type { SelectorSyntax, TopicMatcher } from './types.js';
