// A small CRI client: the RuntimeService and ImageService of runtime.v1 over
// containerd's gRPC socket, from the hand-written subset in tools/cri/api.proto.
// A method is called on whichever service declares it.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export type Message = Record<string, unknown>;
type Unary = (request: Message, callback: (error: grpc.ServiceError | null, response: Message) => void) => void;

export interface Cri {
  call<T extends Message = Message>(method: string, request: Message): Promise<T>;
  close(): void;
}

export function criClient(socket: string): Cri {
  const definition = protoLoader.loadSync(join(import.meta.dirname, 'api.proto'), {
    keepCase: true,
    enums: String,
    longs: Number,
    defaults: true,
  });
  type Service = new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client;
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    runtime: { v1: { RuntimeService: Service; ImageService: Service } };
  };
  const { RuntimeService, ImageService } = loaded.runtime.v1;
  const clients = [RuntimeService, ImageService].map((Service) => new Service(`unix://${socket}`, grpc.credentials.createInsecure()));
  return {
    call<T extends Message>(method: string, request: Message): Promise<T> {
      const client = clients.find((c) => method in c);
      const fn = client && (client as unknown as Record<string, Unary>)[method];
      if (!fn) throw new Error(`no CRI method ${method} in api.proto`);
      return new Promise((resolve, reject) => {
        fn.call(client, request, (error, response) => (error ? reject(new Error(`${method}: ${error.message}`)) : resolve(response as T)));
      });
    },
    close: () => { for (const client of clients) client.close(); },
  };
}

/** A sandbox's config as the kubelet sends it for a hostNetwork pod with shareProcessNamespace: true. */
export function sandboxConfig(name: string, logDirectory: string): Message {
  return {
    metadata: { name, uid: randomUUID(), namespace: 'default', attempt: 0 },
    hostname: '', // must be empty with the node's network namespace
    log_directory: logDirectory,
    linux: { security_context: { namespace_options: SHARED_NAMESPACES } },
  };
}
const SHARED_NAMESPACES = { network: 'NODE', pid: 'POD', ipc: 'POD' };

/** The host pid of the sandbox's process, from containerd's verbose status. */
export async function sandboxPid(cri: Cri, sandboxId: string): Promise<number> {
  const status = await cri.call<{ info: Record<string, string> }>('PodSandboxStatus', { pod_sandbox_id: sandboxId, verbose: true });
  const info = JSON.parse(status.info['info'] ?? '{}') as { pid?: number };
  if (!info.pid) throw new Error(`no pid in the sandbox's status: ${JSON.stringify(status.info)}`);
  return info.pid;
}

/** Creates and starts `image` running `sleep 3600` in the sandbox's namespaces; returns the container's id. */
export async function startWorker(cri: Cri, sandboxId: string, config: Message, image: string): Promise<string> {
  const created = await cri.call<{ container_id: string }>('CreateContainer', {
    pod_sandbox_id: sandboxId,
    sandbox_config: config,
    config: {
      metadata: { name: 'worker', attempt: 0 },
      image: { image },
      command: ['sleep', '3600'],
      log_path: 'worker.log',
      linux: { security_context: { namespace_options: SHARED_NAMESPACES } },
    },
  });
  await cri.call('StartContainer', { container_id: created.container_id });
  return created.container_id;
}

/** Runs a shell script in the container over ExecSync; a non-zero exit fails with its stderr. */
export async function execScript(cri: Cri, containerId: string, script: string): Promise<void> {
  const result = await cri.call<{ exit_code: number; stderr: Buffer }>('ExecSync', { container_id: containerId, cmd: ['sh', '-c', script], timeout: 120 });
  if (result.exit_code !== 0) throw new Error(`sh -c in ${containerId} exited ${result.exit_code}: ${result.stderr.toString()}`);
}
