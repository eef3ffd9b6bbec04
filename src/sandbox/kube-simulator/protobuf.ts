import { ApiError } from './status.js';

/*
 * kubectl's typed clients send request bodies as Kubernetes protobuf (`application/vnd.kubernetes.protobuf`). Of the
 * requests the product's workflows make, only SelfSubjectAccessReview (`kubectl auth can-i`) arrives that way, so
 * this decodes exactly that message; other protobuf bodies are refused with 415, as a server without that
 * serializer would.
 */

/** The content type of Kubernetes protobuf bodies. */
export const PROTOBUF = 'application/vnd.kubernetes.protobuf';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

type Fields = Map<number, Buffer[]>;

/** Reads the length-delimited (wire type 2) fields of a message; varints are skipped, as none are needed here. */
function fields(message: Buffer): Fields {
  const out: Fields = new Map();
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = message[at];
      if (byte === undefined) throw new Error('truncated varint');
      at += 1;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
      shift += 7;
    }
  };
  while (at < message.length) {
    const key = varint();
    const wire = key % 8;
    const field = Math.floor(key / 8);
    if (wire === 0) varint();
    else if (wire === 2) {
      const length = varint();
      out.set(field, [...(out.get(field) ?? []), message.subarray(at, at + length)]);
      at += length;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const text = (f: Fields, n: number): string | undefined => f.get(n)?.[0]?.toString('utf8');
const sub = (f: Fields, n: number): Fields | undefined => {
  const raw = f.get(n)?.[0];
  return raw === undefined ? undefined : fields(raw);
};

/** Decodes a protobuf-encoded SelfSubjectAccessReview into its JSON form; 415 for any other kind. */
export function decodeProtobufBody(body: Buffer): Record<string, unknown> {
  try {
    if (!body.subarray(0, 4).equals(MAGIC)) throw new Error('missing k8s protobuf magic');
    const unknown = fields(body.subarray(4));
    const typeMeta = sub(unknown, 1);
    const kind = typeMeta === undefined ? undefined : text(typeMeta, 2);
    if (kind !== 'SelfSubjectAccessReview') {
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - ` +
        `accepted media types include: application/json, application/yaml (protobuf ${kind ?? 'object'})`);
    }
    const review = fields(unknown.get(2)?.[0] ?? Buffer.alloc(0));
    const spec = sub(review, 2);
    const resource = spec === undefined ? undefined : sub(spec, 1);
    const nonResource = spec === undefined ? undefined : sub(spec, 2);
    const strings = (f: Fields, names: readonly string[]): Record<string, string> =>
      Object.fromEntries(names.flatMap((name, i) => {
        const value = text(f, i + 1);
        return value === undefined ? [] : [[name, value]];
      }));
    return {
      apiVersion: 'authorization.k8s.io/v1',
      kind,
      spec: {
        ...(resource === undefined ? {} : { resourceAttributes: strings(resource,
          ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name']) }),
        ...(nonResource === undefined ? {} : { nonResourceAttributes: strings(nonResource, ['path', 'verb']) }),
      },
    };
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError(400, 'BadRequest', `unable to decode protobuf body: ${(error as Error).message}`);
  }
}
