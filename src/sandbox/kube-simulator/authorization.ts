import type { ScenarioRbacRule } from './scenario/schema.js';
import { ApiError, badRequest } from './status.js';
import type { SubmittedObject } from './store.js';

/** The identity the sandbox kubeconfig authenticates as, named in Forbidden messages. */
export const SANDBOX_USER = 'aegis-sandbox';

/** What a request wants to do, in RBAC terms. */
export interface Attributes {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
}

const matches = (rule: string, value: string): boolean => rule === '*' || rule === value;

/**
 * The scenario's RBAC: everything is allowed except what `rbac.deny` lists. One decision serves both
 * SelfSubjectAccessReviews (what a preflight asks) and the requests themselves (what apply meets), so the two can
 * never disagree.
 */
export class Authorizer {
  constructor(private readonly deny: readonly ScenarioRbacRule[]) {}

  allows(a: Attributes): boolean {
    return !this.deny.some((r) => matches(r.verb, a.verb) && matches(r.resource, a.resource) &&
      matches(r.group, a.group) && matches(r.subresource, a.subresource ?? ''));
  }

  /** Throws the apiserver's 403 when the request is denied. */
  check(a: Attributes): void {
    if (this.allows(a)) return;
    const resource = a.subresource === undefined || a.subresource === '' ? a.resource : `${a.resource}/${a.subresource}`;
    const qualified = a.group === '' ? a.resource : `${a.resource}.${a.group}`;
    const subject = a.name === undefined || a.name === '' ? qualified : `${qualified} "${a.name}"`;
    const scope = a.namespace === undefined ? 'at the cluster scope' : `in the namespace "${a.namespace}"`;
    throw new ApiError(403, 'Forbidden', `${subject} is forbidden: User "${SANDBOX_USER}" cannot ${a.verb} ` +
      `resource "${resource}" in API group "${a.group}" ${scope}`,
    { ...(a.name === undefined ? {} : { name: a.name }), group: a.group, kind: a.resource });
  }

  /** Answers a SelfSubjectAccessReview: the submitted review with `status` filled in. */
  review(body: SubmittedObject): SubmittedObject {
    const spec = body['spec'] as { resourceAttributes?: Partial<Attributes>; nonResourceAttributes?: unknown }
      | undefined;
    const attributes = spec?.resourceAttributes;
    if (attributes === undefined) {
      if (spec?.nonResourceAttributes !== undefined) return { ...body, status: { allowed: true } };
      throw new ApiError(422, 'Invalid', 'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: ' +
        'spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or ' +
        'resourceAttributes must be specified');
    }
    if (attributes.verb === undefined || attributes.resource === undefined) {
      throw badRequest('spec.resourceAttributes needs verb and resource');
    }
    const allowed = this.allows({ ...attributes, verb: attributes.verb, resource: attributes.resource,
      group: attributes.group ?? '' });
    return {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: { creationTimestamp: null } as unknown as SubmittedObject['metadata'],
      spec: body['spec'],
      status: allowed
        ? { allowed: true, reason: `RBAC: allowed by RoleBinding "aegis-oncall/${attributes.namespace ?? ''}" of ` +
            `Role "aegis-oncall" to User "${SANDBOX_USER}"` }
        : { allowed: false },
    };
  }
}
