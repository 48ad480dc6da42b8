// A model as Anthropic's API describes it (GET /v1/models and /v1/models/{id}), for Anthropic clients:
// the SDK's models.list() and models.retrieve() read this shape.

export interface AnthropicModel {
  type: 'model';
  id: string;
  display_name: string;
  created_at: string;
}

export function anthropicModelObject(id: string, createdAt: string, displayName = id): AnthropicModel {
  return { type: 'model', id, display_name: displayName, created_at: createdAt };
}
