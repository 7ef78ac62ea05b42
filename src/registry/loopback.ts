/** True for `localhost`, 127.0.0.0/8 and `[::1]`, with or without a port. */
export function isLoopback(endpoint: string): boolean {
  const host = endpoint.startsWith('[')
    ? endpoint.slice(0, endpoint.indexOf(']') + 1)
    : endpoint.split(':')[0];
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host ?? '');
}
