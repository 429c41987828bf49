/**
 * A private CA and a server certificate it issued for 127.0.0.1 / localhost, generated per test
 * run (nothing checked in): what an internal CA or Splunk's self-signed HEC looks like to a client.
 */
import selfsigned from 'selfsigned';

export interface TestCertificates {
  /** The CA certificate (PEM): what a connector's `tls.ca` holds. */
  ca: string;
  /** The server's key and certificate (PEM), for an HTTPS fake. */
  key: string;
  cert: string;
}

export async function testCertificates(): Promise<TestCertificates> {
  const ca = await selfsigned.generate([{ name: 'commonName', value: 'escalate test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const server = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { ca: ca.cert, key: server.private, cert: server.cert };
}
