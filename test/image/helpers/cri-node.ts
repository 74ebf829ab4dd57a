// A node as the CRI tests need one: a private containerd with `sandbox_image`
// set, a CRI client on its socket, a pod's sandbox config, and one teardown
// that ends the pod (if a test left it), the client and the daemon.
import { startContainerd, type Containerd } from '../../../tools/cri/containerd.ts';
import { criClient, sandboxConfig, type Cri, type Message } from '../../../tools/cri/client.ts';

export interface CriNode {
  readonly containerd: Containerd;
  readonly cri: Cri;
  /** The config RunPodSandbox and CreateContainer are given. */
  readonly config: Message;
  /** The pod's sandbox, once a test has made it; '' once removed. */
  sandboxId: string;
  /** RunPodSandbox with `config`, as the kubelet calls it; the sandbox's state after (a failure carries containerd's log). */
  runSandbox(): Promise<string>;
  stop(): Promise<void>;
}

export async function startCriNode(sandboxImage: string, podName: string, { images = [], plainHttp = [] }: { images?: string[]; plainHttp?: string[] } = {}): Promise<CriNode> {
  const containerd = await startContainerd(sandboxImage, { plainHttp });
  try {
    for (const image of images) containerd.importImage(image);
  } catch (error) {
    await containerd.stop();
    throw error;
  }
  const cri = criClient(containerd.socket);
  const node: CriNode = {
    containerd,
    cri,
    config: sandboxConfig(podName, `${containerd.dir}/logs`),
    sandboxId: '',
    async runSandbox() {
      const response = await cri.call<{ pod_sandbox_id: string }>('RunPodSandbox', { config: node.config }).catch((error: Error) => {
        throw new Error(`${error.message}\ncontainerd log:\n${containerd.log()}`);
      });
      node.sandboxId = response.pod_sandbox_id;
      const status = await cri.call<{ status: { state: string } }>('PodSandboxStatus', { pod_sandbox_id: node.sandboxId });
      return status.status.state;
    },
    async stop() {
      // Idempotent by the CRI's contract: safe whether or not the tests got there.
      if (node.sandboxId) {
        await cri.call('StopPodSandbox', { pod_sandbox_id: node.sandboxId }).catch(() => undefined);
        await cri.call('RemovePodSandbox', { pod_sandbox_id: node.sandboxId }).catch(() => undefined);
      }
      cri.close();
      await containerd.stop();
    },
  };
  return node;
}
