import { describe, expect, test } from 'vitest';
import type { Digest } from '../src/registry/digest.js';
import { canonicalName, digestRef, parseReference, parseRepository } from '../src/registry/reference.js';

const D = `sha256:${'a'.repeat(64)}` as Digest;

describe('parseRepository', () => {
  test.each([
    ['app', 'docker.io', 'registry-1.docker.io', 'library/app'],
    ['org/app', 'docker.io', 'registry-1.docker.io', 'org/app'],
    ['docker.io/library/app', 'docker.io', 'registry-1.docker.io', 'library/app'],
    ['docker.io/app', 'docker.io', 'registry-1.docker.io', 'library/app'],
    ['index.docker.io/org/app', 'docker.io', 'registry-1.docker.io', 'org/app'],
    ['ghcr.io/org/app', 'ghcr.io', 'ghcr.io', 'org/app'],
    ['ghcr.io/org/team/app', 'ghcr.io', 'ghcr.io', 'org/team/app'],
    ['localhost:5000/app', 'localhost:5000', 'localhost:5000', 'app'],
    ['localhost/app', 'localhost', 'localhost', 'app'],
    ['127.0.0.1:5000/a/b', '127.0.0.1:5000', '127.0.0.1:5000', 'a/b'],
    ['[::1]:5000/app', '[::1]:5000', '[::1]:5000', 'app'],
    [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/app',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      'app',
    ],
    ['  ghcr.io/org/app-x_y.z  ', 'ghcr.io', 'ghcr.io', 'org/app-x_y.z'],
  ])('%s', (input, registry, endpoint, path) => {
    const repo = parseRepository(input);
    expect(repo).toEqual({ registry, endpoint, path, display: input.trim() });
  });

  test.each([
    ['', /empty/],
    ['ghcr.io/org/App', /lowercase/],
    ['ghcr.io/org/app:latest', /without tag or digest/],
    ['app:latest', /without tag or digest/],
    [`ghcr.io/org/app@${D}`, /without tag or digest/],
    ['ghcr.io/org//app', /invalid path component ""/],
    ['ghcr.io/org/-app', /invalid path component "-app"/],
    ['bad_host.io:x/app', /invalid registry host|without tag/],
  ])('refuses %j', (input, message) => {
    expect(() => parseRepository(input, 'image')).toThrow(message);
  });

  test('errors name the input and show an example', () => {
    expect(() => parseRepository('Org/App', 'image')).toThrow(/^image "Org\/App".*e\.g\. ghcr\.io\/org\/app/);
  });
});

describe('parseReference', () => {
  test.each([
    ['ghcr.io/org/app:v1', 'ghcr.io/org/app', 'v1', undefined],
    [`ghcr.io/org/app@${D}`, 'ghcr.io/org/app', undefined, D],
    [`ghcr.io/org/app:v1@${D}`, 'ghcr.io/org/app', 'v1', D],
    ['localhost:5000/app', 'localhost:5000/app', undefined, undefined],
    ['localhost:5000/app:1.0', 'localhost:5000/app', '1.0', undefined],
    ['alpine:3', 'docker.io/library/alpine', '3', undefined],
  ])('%s', (input, name, tag, digest) => {
    const ref = parseReference(input);
    expect(canonicalName(ref.repository)).toBe(name);
    expect(ref.tag).toBe(tag);
    expect(ref.digest).toBe(digest);
  });

  test.each([
    ['ghcr.io/org/app@sha256:abc', /not a digest/],
    [`ghcr.io/org/app@sha256:${'A'.repeat(64)}`, /lowercase/],
    ['ghcr.io/org/app:-bad', /invalid tag/],
    [`ghcr.io/org/app:${'x'.repeat(129)}`, /invalid tag/],
  ])('refuses %s', (input, message) => {
    expect(() => parseReference(input, 'source')).toThrow(message);
  });
});

test('digestRef keeps the image as the user wrote it', () => {
  expect(digestRef(parseRepository('ghcr.io/org/app'), D)).toBe(`ghcr.io/org/app@${D}`);
});
