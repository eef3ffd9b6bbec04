import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { KubePort } from '../../src/kube/port.js';

/** The Deployment `aegis-api` and its one ReplicaSet, as the API serves them. */
export const DEPLOYMENT: V1Deployment = {
  kind: 'Deployment',
  metadata: { name: 'aegis-api', uid: 'deploy-uid', annotations: { 'deployment.kubernetes.io/revision': '3' } },
  spec: { replicas: 3, selector: { matchLabels: { app: 'aegis-api' } }, template: { spec: { containers: [{ name: 'aegis-api' }] } } },
  status: { replicas: 3, readyReplicas: 3, updatedReplicas: 3 },
};
const REPLICA_SET: V1ReplicaSet = {
  metadata: {
    name: 'aegis-api-5d4b',
    uid: 'rs-uid',
    annotations: { 'deployment.kubernetes.io/revision': '3' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'aegis-api', uid: 'deploy-uid', controller: true }],
  },
};

/** A pod owned by the Deployment's ReplicaSet. */
export function ownedPod(pod: V1Pod): V1Pod {
  return {
    ...pod,
    metadata: { ...pod.metadata, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'aegis-api-5d4b', uid: 'rs-uid', controller: true }] },
  };
}

/**
 * A port serving the workload's read paths (Deployment, ReplicaSet, pods, no events) for checks fed
 * hand-made pod shapes; `rest` supplies what a test exercises beyond them (logs, exec).
 */
export function workloadPort(pods: V1Pod[], rest: Partial<KubePort>): KubePort {
  return {
    namespace: 'aegis',
    readDeployment: async () => DEPLOYMENT,
    listReplicaSets: async () => [REPLICA_SET],
    listPods: async () => pods.map(ownedPod),
    listEvents: async () => [],
    readNode: async () => null,
    ...rest,
  } as unknown as KubePort;
}
