export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const DOCKER_SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+json';
const DOCKER_SCHEMA1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';

/**
 * Sent on every manifest GET and HEAD. Without all four, the distribution registry answers 404 for stored OCI
 * content, serves a Docker list's amd64 child for a tag, or rewrites a v2 manifest into schema 1.
 */
export const MANIFEST_ACCEPT = [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST].join(', ');

export type IndexMediaType = typeof OCI_INDEX | typeof DOCKER_LIST;
export type ImageMediaType = typeof OCI_MANIFEST | typeof DOCKER_MANIFEST;
export type ManifestMediaType = IndexMediaType | ImageMediaType;

export function isIndexMediaType(mediaType: string): mediaType is IndexMediaType {
  return mediaType === OCI_INDEX || mediaType === DOCKER_LIST;
}

export function isImageMediaType(mediaType: string): mediaType is ImageMediaType {
  return mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST;
}

export function isManifestMediaType(mediaType: string): mediaType is ManifestMediaType {
  return isIndexMediaType(mediaType) || isImageMediaType(mediaType);
}

export function isSchema1MediaType(mediaType: string): boolean {
  return mediaType === DOCKER_SCHEMA1 || mediaType === DOCKER_SCHEMA1_SIGNED;
}

/** `Content-Type` without parameters (`; charset=utf-8`), lowercased. */
export function bareMediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}
