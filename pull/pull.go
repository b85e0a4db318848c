package pull

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/ccrun/ccrun/pull/ref"
	"github.com/ccrun/ccrun/pull/store"
	"github.com/ccrun/ccrun/pull/store/full"
	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/archive"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/pkg/docker/config"
	"go.podman.io/image/v5/signature"
	istorage "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage/pkg/configfile"
)

// Options are the choices of one pull.
type Options struct {
	// Platform picks an image from a manifest list; zero means this machine's.
	Platform ref.Platform
	// Insecure skips TLS verification and allows plain HTTP (--tls-verify=false).
	Insecure bool
	// CertDir replaces the certs.d lookup: CA certificates (*.crt) and client
	// certificates (*.cert, *.key) for the registry.
	CertDir string
	// Progress receives progress: bars when it is a terminal, a line per blob
	// otherwise; nil is quiet.
	Progress io.Writer
	// Auth is where credentials are looked up.
	Auth Env
	// UserAgent is sent to registries.
	UserAgent string
}

// Image copies the image r names into the store and returns its id. Every blob
// is verified against its digest on the way; layers already in the store are
// not fetched again. On failure nothing new stays in the store: no image record,
// and the layers the pull added are deleted (unless another pull may be using
// them).
func Image(ctx context.Context, st *full.Store, r ref.Ref, o Options) (id string, err error) {
	src, err := source(r)
	if err != nil {
		return "", fmt.Errorf("pull %s: %w", r, err)
	}
	p, err := st.BeginPull()
	if err != nil {
		return "", fmt.Errorf("pull %s: %w", r, err)
	}
	defer func() { err = errors.Join(err, p.End(err != nil)) }()
	sys := o.systemContext(p.TempDir)
	// containers/image remembers which blobs it has seen where; keep that
	// inside ccrun's store rather than in podman's ~/.local/share/containers.
	sys.BlobInfoCacheDir = st.Paths().GraphRoot
	if err := credentials(sys, r, o.Auth); err != nil {
		return "", fmt.Errorf("pull %s: %w", r, err)
	}
	id, err = copyImage(ctx, st, src, r, sys, o.Progress)
	if err != nil {
		return "", fmt.Errorf("pull %s: %w", r, err)
	}
	return id, nil
}

// named is r's store name as containers/image's reference type.
func named(r ref.Ref) (reference.Named, error) {
	return reference.ParseNormalizedNamed(r.Name)
}

// source is the containers/image reference to copy from.
func source(r ref.Ref) (types.ImageReference, error) {
	switch r.Transport {
	case ref.OCI:
		if r.Tag == "" {
			return layout.ParseReference(r.Path)
		}
		return layout.ParseReference(r.Path + ":" + r.Tag)
	case ref.DockerArchive:
		if r.Tag == "" {
			return archive.ParseReference(r.Path)
		}
		return archive.ParseReference(r.Path + ":" + r.Tag)
	default:
		n, err := named(r)
		if err != nil {
			return nil, err
		}
		return docker.NewReference(n)
	}
}

func (o Options) systemContext(tmp string) *types.SystemContext {
	sys := &types.SystemContext{
		BigFilesTemporaryDir:    tmp,
		DockerRegistryUserAgent: o.UserAgent,
		OSChoice:                o.Platform.OS,
		ArchitectureChoice:      o.Platform.Architecture,
		VariantChoice:           o.Platform.Variant,
	}
	if o.CertDir != "" {
		sys.DockerCertPath = o.CertDir
	}
	if o.Insecure {
		sys.DockerInsecureSkipTLSVerify = types.OptionalBoolTrue
		sys.OCIInsecureSkipTLSVerify = true
	}
	return sys
}

// copyImage runs containers/image's copy into the store under r's name.
func copyImage(ctx context.Context, st *full.Store, src types.ImageReference, r ref.Ref, sys *types.SystemContext, progress io.Writer) (_ string, err error) {
	n, err := named(r)
	if err != nil {
		return "", err
	}
	dest, err := istorage.Transport.NewStoreReference(st.Storage(), n, "")
	if err != nil {
		return "", err
	}
	pc, err := policyContext(sys)
	if err != nil {
		return "", err
	}
	defer func() { err = errors.Join(err, pc.Destroy()) }()
	_, err = copy.Image(ctx, pc, dest, src, &copy.Options{
		ReportWriter:   progress,
		SourceCtx:      sys,
		DestinationCtx: sys,
	})
	if err != nil {
		return "", err
	}
	img, err := istorage.Transport.GetStoreImage(st.Storage(), dest)
	if err != nil {
		return "", fmt.Errorf("find the pulled image: %w", err)
	}
	return img.ID, nil
}

// policyContext applies the machine's signature policy (policy.json) when it has
// one, and otherwise accepts any image: digests are still verified, signatures
// are not required.
func policyContext(sys *types.SystemContext) (*signature.PolicyContext, error) {
	policy, err := signature.DefaultPolicy(sys)
	if errors.Is(err, configfile.ErrConfigFileNotFound) {
		policy, err = &signature.Policy{Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read signature policy: %w", err)
	}
	return signature.NewPolicyContext(policy)
}

// credentials finds the first credentials stored for r's registry (or a
// namespace of it) in the usual files, and puts them in sys.
func credentials(sys *types.SystemContext, r ref.Ref, e Env) error {
	if r.Transport != ref.Docker {
		return nil
	}
	n, err := named(r)
	if err != nil {
		return err
	}
	for _, f := range AuthFiles(e) {
		auth, err := config.GetCredentialsForRef(&types.SystemContext{AuthFilePath: f}, n)
		if err != nil {
			return fmt.Errorf("read credentials from %s: %w", f, err)
		}
		if auth != (types.DockerAuthConfig{}) {
			sys.DockerAuthConfig = &auth
			return nil
		}
	}
	return nil
}

// Stored returns the id of the image stored under r's name when it is the one r's
// source holds now: the store has a manifest of the same digest. Only local
// sources are looked at (reading their manifest costs a file read); for a
// registry, which would cost a round trip, ok is false.
func Stored(ctx context.Context, st *full.Store, r ref.Ref) (id string, ok bool, err error) {
	if !r.Local() {
		return "", false, nil
	}
	img, err := st.Lookup(r.StoreName())
	if errors.Is(err, store.ErrUnknownImage) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	d, err := manifestDigest(ctx, r)
	if err != nil {
		return "", false, fmt.Errorf("read %s: %w", r, err)
	}
	return img.ID, slices.Contains(img.Digests, d), nil
}

// manifestDigest is the digest of the top-level manifest (or index) r names.
func manifestDigest(ctx context.Context, r ref.Ref) (string, error) {
	s, err := source(r)
	if err != nil {
		return "", err
	}
	src, err := s.NewImageSource(ctx, &types.SystemContext{})
	if err != nil {
		return "", err
	}
	raw, _, err := src.GetManifest(ctx, nil)
	if err = errors.Join(err, src.Close()); err != nil {
		return "", err
	}
	return digest.FromBytes(raw).String(), nil
}
