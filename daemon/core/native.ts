// A request in the client's own wire format, kept beside the router's chat body so a deployment that
// speaks the same format can get it unchanged (passthrough) apart from the model name.

export interface NativeRequest {
  format: 'anthropic';
  /** The client's parsed JSON body, untouched. */
  body: Record<string, unknown>;
  /** The client's protocol headers that travel upstream (anthropic-beta, anthropic-version). */
  headers: Record<string, string>;
}
