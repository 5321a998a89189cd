/* berth — image references ("busybox" -> docker.io/library/busybox:latest,
 * "localhost:5000/a/b:v1", "name@sha256:HEX"), parsed and normalised as
 * Docker's reference package does (src/store/image-ref.c).  Pure functions:
 * no store, no configuration. */
#ifndef BERTH_IMAGE_REF_H
#define BERTH_IMAGE_REF_H

#include "berth/error.h"

struct image_ref {
        char *domain; /* "docker.io" */
        char *path;   /* "library/busybox" */
        char *tag;    /* "latest" (NULL when digest is set and no tag given) */
        char *digest; /* "sha256:HEX" or NULL */
};
int image_ref_parse(const char *s, struct image_ref *out, berth_error_t *err);
void image_ref_free(struct image_ref *r);
/* "docker.io/library/busybox:latest" */
char *image_ref_full(const struct image_ref *r);
/* Docker's familiar form: "busybox:latest", "localhost:5000/a/b:v1" */
char *image_ref_familiar(const struct image_ref *r);
/* Repository part only in familiar form: "busybox" */
char *image_ref_familiar_repo(const struct image_ref *r);
/* A name a tag can be (any reference but one with a digest), in full form
 * (*full_out, malloc'ed), or "refusing to create a tag with a digest
 * reference (NAME)". */
int image_ref_tag_name(const char *name, char **full_out, berth_error_t *err);
/* What a name that leaves out its registry ("busybox", "team/app:1") stands
 * for when short names come from registry (host[:port]) instead of Docker
 * Hub: "reg:5000/busybox:latest", "reg:5000/team/app:1".  NULL when registry
 * is NULL or docker.io, or s names its registry or is no reference.  The
 * result is not checked: parse it. */
char *image_ref_with_default_registry(const char *s, const char *registry);

#endif
