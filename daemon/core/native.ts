// A request in the client's own wire format, kept beside the router's chat body so a deployment that
// speaks the same format can get it unchanged (passthrough) apart from the model name.

export interface NativeRequest {
  format: 'anthropic' | 'responses';
  /** The client's parsed JSON body, untouched. */
  body: Record<string, unknown>;
  /** The client's protocol headers that travel upstream (anthropic-beta, anthropic-version); none for Responses. */
  headers: Record<string, string>;
  /**
   * The bytes the client sent, while `body` is still their parse (same object): a passthrough splices
   * the model into them instead of serialising the body again.
   */
  raw?: { body: Record<string, unknown>; bytes: Uint8Array };
  /** Answer headers the endpoint set about its translation (x-shepherd-dropped-tools): not true of a passthrough. */
  translationHeaders?: string[];
}
