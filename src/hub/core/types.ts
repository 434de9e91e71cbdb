/** What a publisher sends; the hub validates it and assigns an id when there is none. */
export interface PublishInput {
  /** Canonical topic first, then alternates. */
  topics: string[];
  data?: string;
  private?: boolean;
  id?: string;
  type?: string;
  retry?: number;
}
