// Package kubernetes holds the Kubernetes example. It is a module of its own
// so that the Kubernetes API types its test decodes into stay out of
// strictacme's module graph (nothing the binary or `go install` fetches).
// Run with `go test ./...` inside this folder (.ci/run does).
package kubernetes

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// objects decodes every document of a manifest file strictly (an unknown or
// misspelt field fails) into the API type its apiVersion and kind name.
func objects(t *testing.T, file string) []any {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []any
	for i, doc := range bytes.Split(src, []byte("\n---\n")) {
		var tm struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("%s document %d: %v", file, i+1, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 PersistentVolumeClaim":
			obj = &corev1.PersistentVolumeClaim{}
		case "v1 ServiceAccount":
			obj = &corev1.ServiceAccount{}
		case "v1 ConfigMap":
			obj = &corev1.ConfigMap{}
		case "rbac.authorization.k8s.io/v1 Role":
			obj = &rbacv1.Role{}
		case "rbac.authorization.k8s.io/v1 RoleBinding":
			obj = &rbacv1.RoleBinding{}
		case "batch/v1 CronJob":
			obj = &batchv1.CronJob{}
		case "batch/v1 Job":
			obj = &batchv1.Job{}
		default:
			t.Fatalf("%s document %d: unexpected %q %q", file, i+1, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Fatalf("%s document %d (%s): %v", file, i+1, tm.Kind, err)
		}
		out = append(out, obj)
	}
	return out
}

func find[T any](objs []any) []T {
	var out []T
	for _, o := range objs {
		if v, ok := o.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// kustomization is the part of kustomize's Kustomization the deploy step
// uses, decoded strictly as well.
type kustomization struct {
	APIVersion       string `json:"apiVersion"`
	Kind             string `json:"kind"`
	GeneratorOptions struct {
		DisableNameSuffixHash bool `json:"disableNameSuffixHash"`
	} `json:"generatorOptions"`
	SecretGenerator []struct {
		Name  string   `json:"name"`
		Type  string   `json:"type"`
		Files []string `json:"files"`
	} `json:"secretGenerator"`
}

// TestFirstIssueThenRenewThenDeploy pins the example's promises: a Job that
// issues the first certificate (renew alone exits 0 on an empty volume and
// publishes nothing), a CronJob that renews, and in both a deploy step that
// writes a kubernetes.io/tls Secret from the state the strictacme step
// wrote, with permissions for exactly that Secret.
func TestFirstIssueThenRenewThenDeploy(t *testing.T) {
	base := objects(t, "cronjob.yaml")
	first := objects(t, "issue-job.yaml")

	cms := find[*corev1.ConfigMap](base)
	if len(cms) != 1 {
		t.Fatalf("%d ConfigMaps, want the deploy step's one", len(cms))
	}
	var k kustomization
	if err := yaml.UnmarshalStrict([]byte(cms[0].Data["kustomization.yaml"]), &k); err != nil {
		t.Fatalf("kustomization.yaml in ConfigMap %s: %v", cms[0].Name, err)
	}
	if len(k.SecretGenerator) != 1 || k.SecretGenerator[0].Type != string(corev1.SecretTypeTLS) || !k.GeneratorOptions.DisableNameSuffixHash {
		t.Fatalf("the deploy step must generate one kubernetes.io/tls Secret with a stable name: %+v", k)
	}
	secret := k.SecretGenerator[0].Name
	files := strings.Join(k.SecretGenerator[0].Files, " ")
	for _, want := range []string{corev1.TLSCertKey + "=state/certificates/", corev1.TLSPrivateKeyKey + "=state/certificates/"} {
		if !strings.Contains(files, want) {
			t.Errorf("secretGenerator files %q lack %s…", files, want)
		}
	}

	// RBAC: the deploy step can write that Secret and no other.
	roles := find[*rbacv1.Role](base)
	if len(roles) != 1 {
		t.Fatalf("%d Roles", len(roles))
	}
	for _, r := range roles[0].Rules {
		if slices.Contains(r.Verbs, "patch") && !slices.Equal(r.ResourceNames, []string{secret}) {
			t.Errorf("Role lets the deploy step patch %v, want only %s", r.ResourceNames, secret)
		}
	}
	sas := find[*corev1.ServiceAccount](base)
	bindings := find[*rbacv1.RoleBinding](base)
	if len(sas) != 1 || len(bindings) != 1 || bindings[0].RoleRef.Name != roles[0].Name || bindings[0].Subjects[0].Name != sas[0].Name {
		t.Fatal("the Role is not bound to the ServiceAccount the pods use")
	}

	cron := find[*batchv1.CronJob](base)
	jobs := find[*batchv1.Job](first)
	if len(cron) != 1 || len(jobs) != 1 {
		t.Fatalf("%d CronJobs in cronjob.yaml, %d Jobs in issue-job.yaml", len(cron), len(jobs))
	}
	pods := map[string]corev1.PodSpec{"renew": cron[0].Spec.JobTemplate.Spec.Template.Spec, "issue": jobs[0].Spec.Template.Spec}
	claim := find[*corev1.PersistentVolumeClaim](base)[0].Name
	for want, pod := range pods {
		if pod.ServiceAccountName != sas[0].Name {
			t.Errorf("%s pod runs as %q, want %s", want, pod.ServiceAccountName, sas[0].Name)
		}
		if len(pod.InitContainers) != 1 || len(pod.InitContainers[0].Args) == 0 || pod.InitContainers[0].Args[0] != want {
			t.Fatalf("%s pod: strictacme %s must run first, as the init container", want, want)
		}
		sa := pod.InitContainers[0]
		if !strings.HasPrefix(sa.Image, "ghcr.io/strictacme/strictacme:v") {
			t.Errorf("%s pod: image %q is not a pinned release", want, sa.Image)
		}
		if len(pod.Containers) != 1 || !slices.Contains(pod.Containers[0].Command, "-k") || !slices.Contains(pod.Containers[0].Command, "--server-side") {
			t.Fatalf("%s pod: the deploy step must apply the kustomization server-side", want)
		}
		vols := map[string]corev1.Volume{}
		for _, v := range pod.Volumes {
			vols[v.Name] = v
		}
		mounted := func(c corev1.Container, path string) corev1.Volume {
			for _, m := range c.VolumeMounts {
				if m.MountPath == path {
					return vols[m.Name]
				}
			}
			t.Fatalf("%s pod: container %s mounts nothing at %s", want, c.Name, path)
			return corev1.Volume{}
		}
		var statePath string
		for _, e := range sa.Env {
			if e.Name == "STRICTACME_PATH" {
				statePath = e.Value
			}
		}
		if v := mounted(sa, statePath); v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != claim {
			t.Errorf("%s pod: STRICTACME_PATH %q is not on claim %s", want, statePath, claim)
		}
		dep := pod.Containers[0]
		if v := mounted(dep, "/deploy/state"); v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != claim {
			t.Errorf("%s pod: the deploy step does not read the state claim", want)
		}
		if v := mounted(dep, "/deploy/kustomization.yaml"); v.ConfigMap == nil || v.ConfigMap.Name != cms[0].Name {
			t.Errorf("%s pod: the deploy step does not read ConfigMap %s", want, cms[0].Name)
		}
	}
}
