// A small CRI client: the RuntimeService of runtime.v1 over containerd's gRPC
// socket, from the hand-written subset in tools/cri/api.proto.
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
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    runtime: { v1: { RuntimeService: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client } };
  };
  const client = new loaded.runtime.v1.RuntimeService(`unix://${socket}`, grpc.credentials.createInsecure());
  return {
    call<T extends Message>(method: string, request: Message): Promise<T> {
      const fn = (client as unknown as Record<string, Unary>)[method];
      if (!fn) throw new Error(`no CRI method ${method} in api.proto`);
      return new Promise((resolve, reject) => {
        fn.call(client, request, (error, response) => (error ? reject(new Error(`${method}: ${error.message}`)) : resolve(response as T)));
      });
    },
    close: () => client.close(),
  };
}
