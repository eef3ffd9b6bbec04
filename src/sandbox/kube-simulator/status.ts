import { type ResourceType, qualifiedName } from './resources.js';

/** A `metav1.Status` cause, as listed in `details.causes`. */
export interface StatusCause {
  /** Written `reason` by most causes; the eviction API's disruption-budget cause says `type`. */
  readonly type?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

/** The body of every apiserver error response and of exec's final channel-3 message. */
export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[] };
  code: number;
}

/**
 * An error the simulator answers with a real `Status` object, worded as the apiserver words it so that kubectl and
 * client libraries print and classify it exactly as they would against a real cluster.
 */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusBody['details'],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The `Status` document for this error. */
  toStatus(): StatusBody {
    const body: StatusBody = {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason,
      code: this.code,
    };
    if (this.details !== undefined) body.details = this.details;
    return body;
  }
}

function resourceDetails(type: ResourceType, name: string): StatusBody['details'] {
  return { name, group: type.group, kind: type.resource };
}

/** 404 `pods "x" not found`. */
export function notFound(type: ResourceType, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedName(type)} "${name}" not found`, resourceDetails(type, name));
}

/** 409 `pods "x" already exists`. */
export function alreadyExists(type: ResourceType, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedName(type)} "${name}" already exists`,
    resourceDetails(type, name));
}

/** 409 optimistic-concurrency failure, as returned for a stale `resourceVersion`. */
export function conflict(type: ResourceType, name: string): ApiError {
  return new ApiError(409, 'Conflict',
    `Operation cannot be fulfilled on ${qualifiedName(type)} "${name}": the object has been modified; please apply ` +
    'your changes to the latest version and try again', resourceDetails(type, name));
}

/** 422 with field causes, worded `Kind.group "name" is invalid: field: message`. */
export function invalid(type: ResourceType, name: string, causes: { field: string; message: string }[]): ApiError {
  const kind = type.group === '' ? type.kind : `${type.kind}.${type.group}`;
  const summary = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  return new ApiError(422, 'Invalid', `${kind} "${name}" is invalid: ${summary}`, {
    name, group: type.group, kind: type.kind,
    causes: causes.map((c) => ({ reason: 'FieldValueInvalid', message: c.message, field: c.field })),
  });
}

/** 400 BadRequest. */
export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

/** 404 for a path the apiserver does not serve (its wording for unknown URLs). */
export function pathNotFound(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

/** 405 for a verb the resource does not support. */
export function methodNotAllowed(): ApiError {
  return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

/** 415 for a PATCH content type the apiserver does not accept. */
export function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted ` +
    `media types include: application/json-patch+json, application/merge-patch+json, ` +
    `application/apply-patch+yaml, application/strategic-merge-patch+json (got ${contentType})`);
}

/** 401 for a missing or wrong bearer token. */
export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}
