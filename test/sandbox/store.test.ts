import { describe, expect, it } from 'vitest';
import { CONFIG_MAP } from '../../src/sandbox/kube-simulator/resources.js';
import { ObjectStore, type StoreEvent } from '../../src/sandbox/kube-simulator/store.js';
import { fixedClock } from './simulator-helpers.js';

describe('the object store', () => {
  it('delivers every committed change to every listener even when one of them fails', () => {
    const store = new ObjectStore(fixedClock);
    const seen: string[] = [];
    store.subscribe((event: StoreEvent) => {
      if (event.object.metadata.name === 'first') {
        store.create(CONFIG_MAP, { metadata: { name: 'queued', namespace: 'aegis' } });
        throw new Error('listener failed');
      }
    });
    store.subscribe((event) => seen.push(`${event.type} ${event.object.metadata.name}`));
    expect(() => store.create(CONFIG_MAP, { metadata: { name: 'first', namespace: 'aegis' } }))
      .toThrow(new Error('listener failed'));
    expect(seen).toEqual(['ADDED first', 'ADDED queued']);
    store.create(CONFIG_MAP, { metadata: { name: 'later', namespace: 'aegis' } });
    expect(seen).toEqual(['ADDED first', 'ADDED queued', 'ADDED later']);
  });
});
