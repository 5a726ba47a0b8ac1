#!/bin/bash
# Spike recipe: a real 2-node Kubernetes (containerd + runc + kubelet) in unprivileged Docker containers.
# usage: up.sh [nodes]   (default 2). Everything is named drillbook-spike-*.
set -euo pipefail
NODES=${1:-2}
S=/tmp/spike
R=$S/recipe
CP_BIN=/root/.cache/drillbook/k8s/kubernetes-v1.34.4_kwok-v0.7.0/bin   # read only
REDIS=drillbook/redis:28dd6fe3c302
T0=$(date +%s.%N)
ts() { printf '[%6.1fs] %s\n' "$(echo "$(date +%s.%N) - $T0" | bc)" "$*"; }

CAPS="CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE
NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT
SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE
AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ"  # all but SYS_RESOURCE
CAPARGS=(); for c in $CAPS; do CAPARGS+=(--cap-add "$c"); done

docker network inspect drillbook-spike-net >/dev/null 2>&1 || docker network create --label drillbook-spike=1 drillbook-spike-net >/dev/null
for i in $(seq 1 "$NODES"); do
  n=drillbook-spike-n$i
  docker volume create --label drillbook-spike=1 $n-containerd >/dev/null
  docker run -d --name $n --hostname spike-n$i --label drillbook-spike=1 --init \
    --network drillbook-spike-net "${CAPARGS[@]}" \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --cgroupns=private --tmpfs /run --tmpfs /tmp --tmpfs /var/lib/kubelet \
    -v $n-containerd:/var/lib/containerd \
    drillbook-spike-nodeimg:1 sleep infinity >/dev/null
done
ts "node containers started"
IP1=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' drillbook-spike-n1)

# --- PKI (openssl, on the host) -----------------------------------------------------------
P=$S/run/pki; rm -rf $S/run; mkdir -p $P; cd $P
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -days 3 -subj /CN=spike-ca 2>/dev/null
leaf() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $1.key -out $1.csr -subj "/CN=$2${3:+/O=$3}" 2>/dev/null
  printf "$4" > $1.ext; openssl x509 -req -in $1.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $1.crt -days 3 -extfile $1.ext 2>/dev/null; }
CLI='extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n'
leaf apiserver kube-apiserver "" "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\nsubjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:127.0.0.1,IP:10.96.0.1,IP:$IP1\n"
leaf admin drillbook-admin system:masters "$CLI"
leaf controller-manager system:kube-controller-manager "" "$CLI"
leaf scheduler system:kube-scheduler "" "$CLI"
leaf kube-proxy system:kube-proxy "" "$CLI"
leaf apiserver-kubelet-client kube-apiserver-kubelet-client system:masters "$CLI"
openssl genrsa -out sa.key 2048 2>/dev/null; openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
kcfg() { # file user server
  printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: spike\n  cluster: {server: "%s", certificate-authority: /etc/kubernetes/pki/ca.crt}\nusers:\n- name: u\n  user: {client-certificate: /etc/kubernetes/pki/%s.crt, client-key: /etc/kubernetes/pki/%s.key}\ncontexts:\n- name: spike\n  context: {cluster: spike, user: u}\ncurrent-context: spike\n' "$3" "$2" "$2" > $1; }
kcfg admin.kubeconfig admin https://127.0.0.1:6443
kcfg controller-manager.kubeconfig controller-manager https://127.0.0.1:6443
kcfg scheduler.kubeconfig scheduler https://127.0.0.1:6443
kcfg kube-proxy.kubeconfig kube-proxy https://$IP1:6443
for i in $(seq 1 "$NODES"); do
  IPI=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' drillbook-spike-n$i)
  leaf kubelet-n$i system:node:spike-n$i system:nodes "$CLI"
  leaf kubelet-serving-n$i system:node:spike-n$i system:nodes "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\nsubjectAltName=DNS:spike-n$i,IP:$IPI\n"
  kcfg kubelet-n$i.kubeconfig kubelet-n$i https://$IP1:6443
done
ts "pki ready"

# --- per-node preparation (parallel) ------------------------------------------------------
prep() {
  local i=$1 n=drillbook-spike-n$1
  docker exec $n mkdir -p /etc/kubernetes/pki /etc/cni/net.d /etc/containerd /var/log/k8s /var/lib/etcd
  docker exec $n sh -c '
    for d in /sys/fs/cgroup/*; do mount -o remount,bind,rw $d; done   # private cgroupns: rw view of own subtree
    ln -sfn /dev/null /dev/kmsg                                       # kubelet OOM watcher: EOF, then off
    cat /proc/sys/kernel/random/uuid | tr -d - > /etc/machine-id
    mkdir -p /etc/kubernetes/sysctl-mask                              # kubelet reads these, host values untouched
    for kv in vm/overcommit_memory=1 kernel/panic=10 kernel/panic_on_oops=1; do
      f=/etc/kubernetes/sysctl-mask/$(echo ${kv%=*} | tr / .); echo ${kv#*=} > $f; mount --bind $f /proc/sys/${kv%=*}; done'
  tar -C $R/node -c . | docker exec -i $n tar -C / -x
  tar -C $P -c ca.crt kubelet-n$i.crt kubelet-n$i.key kubelet-serving-n$i.crt kubelet-serving-n$i.key kube-proxy.crt kube-proxy.key | docker exec -i $n tar -C /etc/kubernetes/pki -x
  tar -C $P -c kubelet-n$i.kubeconfig kube-proxy.kubeconfig | docker exec -i $n tar -C /etc/kubernetes -x
  tar -C $S/bin -c kubelet kube-proxy | docker exec -i $n tar -C /usr/local/bin -x
  docker exec -d $n sh -c 'containerd > /var/log/containerd.log 2>&1'
  for k in $(seq 50); do docker exec $n ctr version >/dev/null 2>&1 && break; sleep 0.2; done
  docker save drillbook-spike-pause:1 | docker exec -i $n ctr -n k8s.io images import - >/dev/null
  docker save $REDIS | docker exec -i $n ctr -n k8s.io images import - >/dev/null
  ts "n$i: containerd up, images imported"
}
for i in $(seq 1 "$NODES"); do prep $i & done; wait

# --- control plane on n1 ------------------------------------------------------------------
C=drillbook-spike-n1
tar -C $CP_BIN -c etcd kube-apiserver kube-controller-manager kube-scheduler | docker exec -i $C tar -C /usr/local/bin -x
docker cp $S/apt/x/usr/bin/kubectl $C:/usr/local/bin/kubectl
tar -C $P -c ca.key apiserver.crt apiserver.key admin.crt admin.key controller-manager.crt controller-manager.key scheduler.crt scheduler.key sa.key sa.pub apiserver-kubelet-client.crt apiserver-kubelet-client.key | docker exec -i $C tar -C /etc/kubernetes/pki -x
tar -C $P -c admin.kubeconfig controller-manager.kubeconfig scheduler.kubeconfig | docker exec -i $C tar -C /etc/kubernetes -x
K=/etc/kubernetes; PK=$K/pki
docker exec -d $C sh -c "etcd --data-dir=/var/lib/etcd --listen-client-urls=http://127.0.0.1:2379 --advertise-client-urls=http://127.0.0.1:2379 --listen-peer-urls=http://127.0.0.1:2380 --initial-advertise-peer-urls=http://127.0.0.1:2380 --initial-cluster=default=http://127.0.0.1:2380 --name=default --log-level=warn > /var/log/k8s/etcd.log 2>&1"
docker exec -d $C sh -c "kube-apiserver --etcd-servers=http://127.0.0.1:2379 --bind-address=0.0.0.0 --advertise-address=$IP1 --secure-port=6443 --tls-cert-file=$PK/apiserver.crt --tls-private-key-file=$PK/apiserver.key --client-ca-file=$PK/ca.crt --service-account-issuer=https://kubernetes.default.svc --service-account-key-file=$PK/sa.pub --service-account-signing-key-file=$PK/sa.key --service-cluster-ip-range=10.96.0.0/16 --authorization-mode=Node,RBAC --allow-privileged=true --enable-priority-and-fairness=false --profiling=false --kubelet-client-certificate=$PK/apiserver-kubelet-client.crt --kubelet-client-key=$PK/apiserver-kubelet-client.key --kubelet-preferred-address-types=InternalIP > /var/log/k8s/apiserver.log 2>&1"
for k in $(seq 120); do docker exec $C kubectl --kubeconfig $K/admin.kubeconfig get --raw /readyz >/dev/null 2>&1 && break; sleep 0.5; done
ts "apiserver ready"
docker exec -d $C sh -c "kube-controller-manager --kubeconfig=$K/controller-manager.kubeconfig --authentication-kubeconfig=$K/controller-manager.kubeconfig --authorization-kubeconfig=$K/controller-manager.kubeconfig --bind-address=127.0.0.1 --service-account-private-key-file=$PK/sa.key --root-ca-file=$PK/ca.crt --cluster-signing-cert-file=$PK/ca.crt --cluster-signing-key-file=$PK/ca.key --use-service-account-credentials=true --leader-elect=false --controllers=* --profiling=false --allocate-node-cidrs=true --cluster-cidr=10.244.0.0/16 --node-cidr-mask-size=24 --service-cluster-ip-range=10.96.0.0/16 > /var/log/k8s/controller-manager.log 2>&1"
docker exec -d $C sh -c "kube-scheduler --kubeconfig=$K/scheduler.kubeconfig --authentication-kubeconfig=$K/scheduler.kubeconfig --authorization-kubeconfig=$K/scheduler.kubeconfig --bind-address=127.0.0.1 --leader-elect=false --profiling=false > /var/log/k8s/scheduler.log 2>&1"

# --- kubelet + kube-proxy on every node ---------------------------------------------------
for i in $(seq 1 "$NODES"); do
  n=drillbook-spike-n$i; IPI=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' $n)
  docker exec $n sh -c "sed -i 's/@NODE@/n$i/g' $K/kubelet-config.yaml"
  docker exec -d $n sh -c "kubelet --config=$K/kubelet-config.yaml --kubeconfig=$K/kubelet-n$i.kubeconfig --hostname-override=spike-n$i --node-ip=$IPI --v=1 > /var/log/k8s/kubelet.log 2>&1"
  docker exec -d $n sh -c "kube-proxy --config=$K/kube-proxy.yaml --hostname-override=spike-n$i > /var/log/k8s/kube-proxy.log 2>&1"
done
A="docker exec $C kubectl --kubeconfig $K/admin.kubeconfig"
for k in $(seq 120); do [ "$($A get nodes -o jsonpath='{range .items[*]}{.spec.podCIDR}{" "}{end}' 2>/dev/null | wc -w)" = "$NODES" ] && break; sleep 0.5; done
ts "all $NODES nodes registered with a podCIDR"

# --- pod network: per node bridge CNI on its podCIDR + routes to the other nodes' podCIDRs (kindnet's job)
for i in $(seq 1 "$NODES"); do
  CIDR=$($A get node spike-n$i -o jsonpath='{.spec.podCIDR}')
  GW=${CIDR%.0/24}.1
  sed -e "s#@SUBNET@#$CIDR#" -e "s#@GW@#$GW#" $R/10-spike.conflist.in | docker exec -i drillbook-spike-n$i sh -c 'cat > /etc/cni/net.d/10-spike.conflist'
  for j in $(seq 1 "$NODES"); do [ $i = $j ] && continue
    CJ=$($A get node spike-n$j -o jsonpath='{.spec.podCIDR}')
    IPJ=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' drillbook-spike-n$j)
    docker exec drillbook-spike-n$i ip route replace $CJ via $IPJ
  done
done
ts "CNI written, routes set"
for k in $(seq 120); do [ "$($A get nodes --no-headers 2>/dev/null | grep -cw Ready)" = "$NODES" ] && break; sleep 0.5; done
ts "all $NODES nodes Ready"
$A get nodes -o wide
