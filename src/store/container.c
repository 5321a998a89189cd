/* berth — container records (see include/berth/container.h). */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <sys/stat.h>

#include "berth/blob.h"
#include "berth/container.h"
#include "berth/event.h"
#include "berth/json-util.h"
#include "berth/util.h"

void container_free(struct berth_container *c)
{
        if (!c)
                return;
        free(c->id);
        free(c->name);
        free(c->dir);
        json_decref(c->config);
        json_decref(c->state);
        free(c);
}

char *container_short_id(const char *id)
{
        return xstrndup(id, 12);
}

const char *container_unit(struct berth_container *c)
{
        return json_str(c->config, "Berth.Unit");
}

bool container_name_valid(const char *name)
{
        if (!name[0] || !isalnum((unsigned char) name[0]) || strlen(name) > 200)
                return false;
        for (const char *p = name; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("_.-", *p))
                        return false;
        return true;
}

static json_t *load_json(const char *path, berth_error_t *err)
{
        json_error_t jerr;
        json_t *j = json_load_path(path, 0, &jerr);
        if (!j)
                berth_error(err, 0, "corrupt store file `%s`: %s", path, jerr.text);
        else if (!json_is_object(j)) {
                json_decref(j);
                j = NULL;
                berth_error(err, 0, "corrupt store file `%s`: not a JSON object", path);
        }
        return j;
}

int container_load(struct berth_store *s, const char *id, struct berth_container **out, berth_error_t *err)
{
        struct berth_container *c = xcalloc(1, sizeof(*c));
        c->id = xstrdup(id);
        c->dir = store_path(s, "containers/%s", id);
        cleanup_free char *cfg = xasprintf("%s/config.json", c->dir);
        cleanup_free char *st = xasprintf("%s/state.json", c->dir);
        c->config = load_json(cfg, err);
        if (c->config)
                c->state = load_json(st, err);
        if (!c->config || !c->state) {
                container_free(c);
                return -1;
        }
        const char *name = json_str(c->config, "Name");
        c->name = xstrdup(name ? name : id);
        *out = c;
        return 0;
}

static bool is_hex(const char *s)
{
        for (; *s; s++)
                if (!isxdigit((unsigned char) *s) || isupper((unsigned char) *s))
                        return false;
        return true;
}

/* Every record of ROOT/containers: the readable ones in *out, the others in
 * *bad.  A record is a directory renamed into place whole (create) and out
 * of the way whole (rm), so one that vanished while we listed was removed,
 * and one that is there but cannot be read is damaged. */
int container_list_readable(struct berth_store *s, struct berth_container ***out, size_t *n,
                            struct container_unreadable **bad, size_t *nbad, berth_error_t *err)
{
        cleanup_free char *dir = store_path(s, "containers");
        cleanup_dir DIR *d = opendir(dir);
        if (!d)
                return berth_error(err, errno, "open `%s`", dir);
        struct berth_container **v = NULL;
        size_t count = 0;
        *bad = NULL;
        *nbad = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strlen(de->d_name) != 64 || !is_hex(de->d_name))
                        continue;
                struct berth_container *c = NULL;
                cleanup_error berth_error_t e = NULL;
                if (container_load(s, de->d_name, &c, &e) < 0) {
                        struct stat st;
                        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
                                continue; /* removed while we listed */
                        *bad = xrealloc(*bad, (*nbad + 1) * sizeof(**bad));
                        (*bad)[(*nbad)++] = (struct container_unreadable) {
                                xstrdup(de->d_name),
                                xasprintf("container record %.12s unreadable: %s", de->d_name, e ? e->msg : "?"),
                        };
                        continue;
                }
                v = xrealloc(v, (count + 1) * sizeof(*v));
                v[count++] = c;
        }
        /* newest first */
        for (size_t i = 1; i < count; i++)
                for (size_t j = i; j > 0; j--) {
                        const char *a = json_str(v[j - 1]->config, "Created");
                        const char *b = json_str(v[j]->config, "Created");
                        if (a && b && strcmp(a, b) < 0) {
                                struct berth_container *t = v[j];
                                v[j] = v[j - 1];
                                v[j - 1] = t;
                        }
                }
        *out = v;
        *n = count;
        return 0;
}

void container_unreadable_free(struct container_unreadable *bad, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(bad[i].id);
                free(bad[i].error);
        }
        free(bad);
}

int container_list(struct berth_store *s, struct berth_container ***out, size_t *n, berth_error_t *err)
{
        struct container_unreadable *bad = NULL;
        size_t nbad = 0;
        if (container_list_readable(s, out, n, &bad, &nbad, err) < 0)
                return -1;
        if (nbad == 0)
                return 0;
        berth_error(err, 0, "%s; run berth system check", bad[0].error);
        container_unreadable_free(bad, nbad);
        container_list_free(*out, *n);
        *out = NULL;
        *n = 0;
        return -1;
}

void container_list_free(struct berth_container **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                container_free(v[i]);
        free(v);
}

/* ---- the name index: ROOT/container-names/NAME -> ID ---------------------------
 * A hint, so that a lookup by name or full ID reads one record instead of
 * all of them: what it points at is used only when that record carries the
 * name, and anything else (no entry, a stale one after a crash, records of
 * an older berth) falls back to the scan.  Names stay unique: create and
 * rename, under the store lock, ask the entry of the name only when every
 * record has an entry (name_index_covers), and read every record otherwise,
 * restoring the missing entries. */
static char *name_index_path(struct berth_store *s, const char *name)
{
        return store_path(s, "container-names/%s", name);
}

static void name_index_set(struct berth_store *s, const char *name, const char *id)
{
        cleanup_free char *dir = store_path(s, "container-names");
        cleanup_free char *path = name_index_path(s, name);
        cleanup_free char *tmp = store_path(s, "container-names/.%s.new", name);
        (void) mkdir(dir, 0700);
        (void) unlink(tmp);
        if (symlink(id, tmp) < 0 || rename(tmp, path) < 0)
                (void) unlink(tmp); /* a hint: the scan still finds it */
}

static void name_index_drop(struct berth_store *s, const char *name, const char *id)
{
        cleanup_free char *path = name_index_path(s, name);
        char target[80];
        ssize_t n = readlink(path, target, sizeof(target) - 1);
        if (n <= 0)
                return;
        target[n] = '\0';
        if (streq(target, id))
                (void) unlink(path);
}

/* The record a name or full ID names, read alone; 0 when the index has no
 * good answer. */
static int lookup_direct(struct berth_store *s, const char *r, struct berth_container **out)
{
        char id[80];
        if (strlen(r) == 64 && is_hex(r)) {
                snprintf(id, sizeof(id), "%s", r);
        } else {
                if (!container_name_valid(r))
                        return 0;
                cleanup_free char *path = name_index_path(s, r);
                ssize_t n = readlink(path, id, sizeof(id) - 1);
                if (n != 64)
                        return 0;
                id[n] = '\0';
                if (!is_hex(id))
                        return 0;
        }
        struct berth_container *c = NULL;
        berth_error_t e = NULL;
        if (container_load(s, id, &c, &e) < 0) {
                berth_error_free(&e);
                return 0;
        }
        if (!streq(c->id, r) && !streq(c->name, r)) {
                container_free(c);
                return 0;
        }
        *out = c;
        return 1;
}

int container_lookup(struct berth_store *s, const char *ref, struct berth_container **out, berth_error_t *err)
{
        if (!ref || !*ref)
                return berth_error(err, 0, "container name or ID must not be empty");
        const char *r = ref[0] == '/' ? ref + 1 : ref;
        if (lookup_direct(s, r, out) > 0)
                return 0;
        struct berth_container **v = NULL;
        size_t n = 0;
        struct container_unreadable *bad = NULL;
        size_t nbad = 0;
        if (container_list_readable(s, &v, &n, &bad, &nbad, err) < 0)
                return -1;
        struct berth_container *found = NULL;
        const struct container_unreadable *found_bad = NULL;
        int matches = 0;
        for (size_t i = 0; i < n && !found; i++)
                if (streq(v[i]->name, r) || streq(v[i]->id, r))
                        found = v[i];
        if (!found && is_hex(r)) {
                for (size_t i = 0; i < n; i++)
                        if (startswith(v[i]->id, r)) {
                                found = v[i];
                                matches++;
                        }
                /* an unreadable record answers to its ID only */
                for (size_t i = 0; i < nbad; i++)
                        if (startswith(bad[i].id, r)) {
                                found_bad = &bad[i];
                                matches++;
                        }
        }
        int ret = 0;
        if (matches > 1)
                ret = berth_error(err, 0, "multiple containers match the ID prefix '%s': use more characters", ref);
        else if (found_bad)
                ret = berth_error(err, 0, "%s; run berth system check", found_bad->error);
        else if (!found && nbad > 0)
                /* its name may be the one we cannot read */
                ret = berth_error(err, 0, "No such container: %s (cannot tell for sure: %s; run berth system check)",
                                  ref, bad[0].error);
        else if (!found)
                ret = berth_error(err, 0, "No such container: %s", ref);
        container_unreadable_free(bad, nbad);
        if (ret < 0) {
                container_list_free(v, n);
                return ret;
        }
        for (size_t i = 0; i < n; i++)
                if (v[i] != found)
                        container_free(v[i]);
        free(v);
        *out = found;
        return 0;
}

static const char *const adjectives[] = {
        "admiring", "adoring", "affectionate", "agitated", "amazing", "angry", "awesome", "beautiful",
        "blissful", "bold", "boring", "brave", "busy", "charming", "clever", "compassionate", "competent",
        "condescending", "confident", "cool", "cranky", "crazy", "dazzling", "determined", "distracted",
        "dreamy", "eager", "ecstatic", "elastic", "elated", "elegant", "eloquent", "epic", "exciting",
        "fervent", "festive", "flamboyant", "focused", "friendly", "frosty", "funny", "gallant", "gifted",
        "goofy", "gracious", "great", "happy", "hardcore", "heuristic", "hopeful", "hungry", "infallible",
        "inspiring", "intelligent", "interesting", "jolly", "jovial", "keen", "kind", "laughing", "loving",
        "lucid", "magical", "modest", "musing", "mystifying", "naughty", "nervous", "nice", "nifty",
        "nostalgic", "objective", "optimistic", "peaceful", "pedantic", "pensive", "practical", "priceless",
        "quirky", "quizzical", "relaxed", "reverent", "romantic", "sad", "serene", "sharp", "silly",
        "sleepy", "stoic", "strange", "stupefied", "suspicious", "sweet", "tender", "thirsty", "trusting",
        "unruffled", "upbeat", "vibrant", "vigilant", "vigorous", "wizardly", "wonderful", "xenodochial",
        "youthful", "zealous", "zen",
};
static const char *const surnames[] = {
        "agnesi", "albattani", "allen", "almeida", "archimedes", "ardinghelli", "aryabhata", "austin",
        "babbage", "banach", "bardeen", "bartik", "bassi", "bell", "benz", "bhabha", "bhaskara", "black",
        "blackwell", "bohr", "booth", "borg", "bose", "boyd", "brahmagupta", "brattain", "brown", "carson",
        "chandrasekhar", "chatelet", "chaum", "clarke", "colden", "cori", "cray", "curie", "darwin",
        "davinci", "dewdney", "dijkstra", "dubinsky", "easley", "edison", "einstein", "elion", "engelbart",
        "euclid", "euler", "faraday", "fermat", "fermi", "feynman", "franklin", "gagarin", "galileo",
        "gates", "gauss", "germain", "goldberg", "goldstine", "goodall", "hamilton", "hawking", "heisenberg",
        "hermann", "hodgkin", "hofstadter", "hopper", "hypatia", "jang", "jennings", "jepsen", "johnson",
        "joliot", "jones", "kalam", "kapitsa", "keller", "kepler", "khorana", "kilby", "knuth", "lalande",
        "lamarr", "leakey", "leavitt", "lederberg", "lehmann", "lewin", "lichterman", "liskov", "lovelace",
        "lumiere", "mahavira", "margulis", "mayer", "mccarthy", "mcclintock", "meitner", "mendel",
        "merkle", "mestorf", "mirzakhani", "montalcini", "moore", "morse", "napier", "nash", "newton",
        "nightingale", "nobel", "noether", "northcutt", "noyce", "pare", "pascal", "pasteur", "payne",
        "perlman", "pike", "poincare", "poitras", "ptolemy", "raman", "ramanujan", "ride", "ritchie",
        "roentgen", "rosalind", "saha", "sammet", "shamir", "shannon", "shaw", "shirley", "shockley",
        "sinoussi", "snyder", "spence", "stonebraker", "sutherland", "swanson", "swartz", "swirles",
        "tesla", "tharp", "thompson", "torvalds", "turing", "varahamihira", "visvesvaraya", "volhard",
        "wescoff", "wiles", "williams", "wilson", "wing", "wozniak", "wright", "yalow", "yonath",
};

/* "adjective_name" */
static char *container_generate_name(void)
{
        unsigned r[2] = { 0, 0 };
        (void) random_bytes(r, sizeof(r));
        return xasprintf("%s_%s", adjectives[r[0] % ARRAY_SIZE(adjectives)], surnames[r[1] % ARRAY_SIZE(surnames)]);
}

/* 1 when a container has this name, 0 when none has, -1 when that cannot be
 * told (a record that cannot be read may have it). */
static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Whether every record in containers/ has an entry in container-names/
 * pointing at it: one readdir of each and a readlink per entry, no record
 * parsed.  The store lock must be held (exclusive), so nothing changes
 * meanwhile.  An entry goes only when its record goes or has another name,
 * so when this holds, the entry for a name is the only record that can
 * carry it. */
static bool name_index_covers(struct berth_store *s)
{
        cleanup_free char *names = store_path(s, "container-names");
        cleanup_free char *recs = store_path(s, "containers");
        char **ids = NULL;
        size_t n = 0, cap = 0;
        bool ok = true;
        DIR *d = opendir(names);
        if (!d)
                return false;
        struct dirent *de;
        while ((de = readdir(d))) {
                char t[80];
                ssize_t k = readlinkat(dirfd(d), de->d_name, t, sizeof(t) - 1);
                if (de->d_name[0] == '.' || k != 64)
                        continue;
                t[k] = '\0';
                if (n == cap)
                        ids = xrealloc(ids, (cap = cap ? cap * 2 : 64) * sizeof(char *));
                ids[n++] = xstrdup(t);
        }
        closedir(d);
        if (n > 0) /* qsort() takes no NULL, even for nothing */
                qsort(ids, n, sizeof(char *), cmp_str);
        d = opendir(recs);
        if (!d)
                ok = false;
        while (ok && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                const char *key = de->d_name;
                ok = n > 0 && bsearch(&key, ids, n, sizeof(char *), cmp_str) != NULL;
        }
        if (d)
                closedir(d);
        for (size_t i = 0; i < n; i++)
                free(ids[i]);
        free(ids);
        return ok;
}

/* 1 when a container has this name, 0 when none has, -1 when that cannot be
 * told (a record that cannot be read may have it).  With the index whole
 * (name_index_covers) one record answers; otherwise every record is read,
 * and the index is made whole again for the next time. */
static int name_in_use(struct berth_store *s, const char *name, berth_error_t *err)
{
        if (name_index_covers(s)) {
                cleanup_free char *path = name_index_path(s, name);
                char id[80];
                ssize_t k = readlink(path, id, sizeof(id) - 1);
                if (k < 0 && errno == ENOENT)
                        return 0;
                if (k < 0)
                        return berth_error(err, errno, "cannot tell whether the name \"%s\" is free: read `%s`",
                                           name, path);
                id[k] = '\0';
                cleanup_free char *dir = store_path(s, "containers/%s", id);
                if (k != 64 || !is_hex(id) || (access(dir, F_OK) < 0 && errno == ENOENT))
                        return 0; /* stale: its container is gone */
                struct berth_container *c = NULL;
                berth_error_t e = NULL;
                if (container_load(s, id, &c, &e) < 0) {
                        berth_error(err, 0,
                                    "cannot tell whether the name \"%s\" is free: container record %.12s unreadable: "
                                    "%s; run berth system check",
                                    name, id, e->msg);
                        berth_error_free(&e);
                        return -1;
                }
                int used = streq(c->name, name);
                container_free(c);
                return used;
        }
        struct berth_container **v = NULL;
        size_t n = 0;
        if (container_list(s, &v, &n, err) < 0)
                return berth_error_wrap(err, "cannot tell whether the name \"%s\" is free", name);
        int used = 0;
        for (size_t i = 0; i < n; i++) {
                if (streq(v[i]->name, name))
                        used = 1;
                name_index_set(s, v[i]->name, v[i]->id);
        }
        container_list_free(v, n);
        return used;
}

static int write_json(const char *path, json_t *j, enum write_sync sync, berth_error_t *err)
{
        return json_write_atomic_sync(path, j, JSON_INDENT(2) | JSON_SORT_KEYS, 0600, sync, err);
}

int container_create(struct berth_store *s, json_t *config, const char *name, struct berth_container **out,
                     berth_error_t *err)
{
        unsigned char raw[32];
        char id[65];
        const char *preset = json_str(config, "Id"); /* definition containers keep theirs */
        if (preset && strlen(preset) == 64 && is_hex(preset))
                snprintf(id, sizeof(id), "%s", preset);
        else {
                if (random_bytes(raw, sizeof(raw)) < 0)
                        return berth_error(err, errno, "getrandom");
                hex_encode(raw, sizeof(raw), id);
        }
        if (name && !container_name_valid(name))
                return berth_error(err, 0, "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                                   name);

        cleanup_store_lock struct store_lock_scope lock = {};
        if (store_lock_scope_take(s, true, &lock, err) < 0)
                return -1;
        /* an rmi between the caller's image lookup and this lock must not
         * leave a container without its image */
        const char *image = json_str(config, "Image");
        if (image && !store_blob_exists(s, image))
                return berth_error(err, 0, "No such image: %s (it was removed meanwhile)", image);
        cleanup_free char *chosen = NULL;
        if (name) {
                int used = name_in_use(s, name, err);
                if (used < 0)
                        return -1;
                if (used) {
                        store_lock_scope_release(&lock); /* container_lookup() reads without it */
                        struct berth_container *other = NULL;
                        berth_error_t e = NULL;
                        cleanup_free char *oid = NULL;
                        if (container_lookup(s, name, &other, &e) == 0) {
                                oid = xstrdup(other->id);
                                container_free(other);
                        }
                        berth_error_free(&e);
                        return berth_error(err, 0,
                                           "Conflict. The container name \"/%s\" is already in use by container "
                                           "\"%s\". You have to remove (or rename) that container to be able to "
                                           "reuse that name",
                                           name, oid ? oid : "?");
                }
                chosen = xstrdup(name);
        } else {
                for (int i = 0; i < 100; i++) {
                        chosen = container_generate_name();
                        int used = name_in_use(s, chosen, err);
                        if (used < 0)
                                return -1;
                        if (!used)
                                break;
                        free(chosen);
                        chosen = NULL;
                }
                if (!chosen)
                        return berth_error(err, 0, "could not generate a unique container name");
        }

        cleanup_free char *created = format_rfc3339(now_ns());
        json_object_set_new(config, "Id", json_string(id));
        json_object_set_new(config, "Name", json_string(chosen));
        json_object_set_new(config, "Created", json_string(created));
        json_t *berth = json_object_get(config, "Berth");
        if (!berth)
                json_object_set_new(config, "Berth", berth = json_object());
        if (!json_str(berth, "Unit")) {
                cleanup_free char *unit = xasprintf("berth-%s.service", chosen);
                json_object_set_new(berth, "Unit", json_string(unit));
        }

        /* Stage the directory in ROOT/tmp and rename it into place, so a
         * crash never leaves a half-made container behind. */
        cleanup_free char *stage = NULL, *p_upper = NULL, *p_work = NULL, *p_rootfs = NULL, *p_cfg = NULL,
                          *p_state = NULL, *final = NULL, *parent = NULL, *p_mark = NULL;
        int r = store_mkstemp_dir(s, &stage, err);
        if (r < 0)
                goto fail;
        p_upper = xasprintf("%s/upper", stage);
        p_work = xasprintf("%s/work", stage);
        p_rootfs = xasprintf("%s/rootfs", stage);
        p_cfg = xasprintf("%s/config.json", stage);
        p_state = xasprintf("%s/state.json", stage);
        json_t *state = json_pack("{s:s, s:i, s:i, s:s, s:s, s:i}", "Status", "created", "Pid", 0, "ExitCode", 0,
                                  "StartedAt", "0001-01-01T00:00:00Z", "FinishedAt", "0001-01-01T00:00:00Z",
                                  "RestartCount", 0);
        if (mkdir(p_upper, 0755) < 0 || mkdir(p_work, 0700) < 0 || mkdir(p_rootfs, 0755) < 0) {
                r = berth_error(err, errno, "create container directories in `%s`", stage);
                json_decref(state);
                goto fail;
        }
        /* one transaction, one sync: both files, their names in the stage
         * and the stage's name in containers/ reach the disk together
         * (syncfs), where a sync per file and directory took four.  A --rm
         * container's record goes with its run and need not survive a
         * crash: no sync at all; its empty `ephemeral` mark (metadata only,
         * in the journal before the rename) tells system check that what a
         * power cut left of it is garbage. */
        bool ephemeral = json_bool(config, "HostConfig.AutoRemove");
        p_mark = xasprintf("%s/ephemeral", stage);
        int mark = ephemeral ? open(p_mark, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
        if (ephemeral && mark < 0) {
                json_decref(state);
                r = berth_error(err, errno, "create `%s`", p_mark);
                goto fail;
        }
        if (mark >= 0)
                close(mark);
        r = write_json(p_cfg, config, WRITE_VOLATILE, err);
        if (r >= 0)
                r = write_json(p_state, state, WRITE_VOLATILE, err);
        json_decref(state);
        if (r < 0)
                goto fail;
        final = store_path(s, "containers/%s", id);
        if (rename(stage, final) < 0) {
                r = berth_error(err, errno, "rename `%s` to `%s`", stage, final);
                goto fail;
        }
        parent = store_path(s, "containers");
        if (!ephemeral && sync_fs_of(parent, err) < 0) {
                /* not durable: undo, as if it had failed before the rename */
                rm_rf(final, NULL);
                r = -1;
                goto fail;
        }
        name_index_set(s, chosen, id);
        store_lock_scope_release(&lock);
        r = container_load(s, id, out, err);
        if (r >= 0)
                container_event(*out, "create", NULL);
        return r;
fail:
        if (stage)
                rm_rf(stage, NULL);
        return r;
}

int container_remove(struct berth_store *s, struct berth_container *c, berth_error_t *err)
{
        /* Rename out of the way first (atomic: the container vanishes at once),
         * then delete at leisure.  The stage's name is this removal's own: a
         * definition's container keeps its id from start to start, and what
         * an earlier removal could not delete must not stop this one. */
        unsigned char raw[6] = { 0 };
        char tag[sizeof(raw) * 2 + 1];
        (void) random_bytes(raw, sizeof(raw));
        hex_encode(raw, sizeof(raw), tag);
        cleanup_free char *stage = store_path(s, "tmp/rm-%s-%s", c->id, tag);
        {
                cleanup_store_lock struct store_lock_scope lock = {};
                if (store_lock_scope_take(s, true, &lock, err) < 0)
                        return -1;
                if (rename(c->dir, stage) < 0) {
                        if (errno != ENOENT)
                                return berth_error(err, errno, "remove container %s", c->name);
                        return 0; /* removed meanwhile (its stop hook, or its client) */
                }
                name_index_drop(s, c->name, c->id);
        }
        container_event(c, "destroy", NULL);
        cleanup_free char *run = store_run_path(s, "containers/%s", c->id);
        rm_rf(run, NULL);
        /* Removed since the rename: what cannot be deleted now is garbage
         * in tmp/ that `berth system check --repair` takes away. */
        berth_error_t e = NULL;
        if (rm_rf(stage, &e) < 0)
                berth_warn_error(&e, "container %s is removed, but not all of its files", c->name);
        /* and what an earlier removal of this id left (its process killed
         * midway: a definition's start stopped while it replaced the
         * previous record), as far as it goes now */
        cleanup_free char *pattern = store_path(s, "tmp/rm-%s-*", c->id);
        glob_t g;
        if (glob(pattern, GLOB_NOSORT, NULL, &g) == 0)
                for (size_t i = 0; i < g.gl_pathc; i++)
                        (void) rm_rf(g.gl_pathv[i], NULL);
        globfree(&g);
        return 0;
}

int container_lock(struct berth_container *c, berth_error_t *err)
{
        cleanup_free char *p = xasprintf("%s/lock", c->dir);
        return lock_file(p, true, err);
}

int container_save_state(struct berth_container *c, berth_error_t *err)
{
        /* the run state changes at every start and stop; after a crash the
         * unit's state (none: not running) is the truth, so the record only
         * has to stay whole */
        cleanup_free char *p = xasprintf("%s/state.json", c->dir);
        /* a --rm container's record goes with its run: after a crash it is
         * garbage whatever its state says (system check removes it) */
        bool ephemeral = json_bool(c->config, "HostConfig.AutoRemove");
        return write_json(p, c->state, ephemeral ? WRITE_VOLATILE : WRITE_WHOLE, err);
}

int container_save_config(struct berth_container *c, berth_error_t *err)
{
        cleanup_free char *p = xasprintf("%s/config.json", c->dir);
        return write_json(p, c->config, WRITE_DURABLE, err);
}

/* The part of rename under the container's lock and the store lock. */
static int rename_locked(struct berth_store *s, struct berth_container *c, const char *name, berth_error_t *err)
{
        int used = name_in_use(s, name, err);
        if (used < 0)
                return -1;
        if (used)
                return berth_error(err, 0, "Conflict. The container name \"/%s\" is already in use", name);
        json_object_set_new(c->config, "Name", json_string(name));
        /* A running container keeps its unit until it stops; a stopped one
         * starts as berth-NEW.service from now on. */
        if (!container_is_running(c)) {
                cleanup_free char *unit = xasprintf("berth-%s.service", name);
                json_object_set_new(json_object_get(c->config, "Berth"), "Unit", json_string(unit));
        }
        cleanup_free char *p = xasprintf("%s/config.json", c->dir);
        if (write_json(p, c->config, WRITE_DURABLE, err) < 0)
                return -1;
        name_index_drop(s, c->name, c->id);
        name_index_set(s, name, c->id);
        free(c->name);
        c->name = xstrdup(name);
        return 0;
}

int container_sync_unit_name(struct berth_container *c, berth_error_t *err)
{
        cleanup_free char *want = xasprintf("berth-%s.service", c->name);
        if (json_str(c->config, "Berth.Definition") || streq(container_unit(c), want))
                return 0;
        cleanup_close int lfd = container_lock(c, err);
        if (lfd < 0)
                return -1;
        json_object_set_new(json_object_get(c->config, "Berth"), "Unit", json_string(want));
        cleanup_free char *p = xasprintf("%s/config.json", c->dir);
        return write_json(p, c->config, WRITE_DURABLE, err);
}

int container_rename(struct berth_store *s, struct berth_container *c, const char *name, berth_error_t *err)
{
        if (!container_name_valid(name))
                return berth_error(err, 0, "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                                   name);
        if (json_str(c->config, "Berth.Definition"))
                return berth_error(err, 0,
                                   "container %s comes from %s (unit %s): change ContainerName= there",
                                   c->name, json_str(c->config, "Berth.Definition"), container_unit(c));
        if (streq(name, c->name))
                return berth_error(err, 0, "Renaming a container with the same name as its current name");
        /* The container's lock first, as rm and the stop hook take them
         * (store.h). */
        cleanup_close int lfd = container_lock(c, err);
        if (lfd < 0)
                return -1;
        cleanup_store_lock struct store_lock_scope lock = {};
        if (store_lock_scope_take(s, true, &lock, err) < 0)
                return -1;
        cleanup_free char *old = xasprintf("oldName=/%s", c->name);
        if (rename_locked(s, c, name, err) < 0)
                return -1;
        char *attrs[] = { old, NULL };
        container_event(c, "rename", attrs);
        return 0;
}

void container_event(struct berth_container *c, const char *action, char *const *extra)
{
        cleanup_strv char **attrs = NULL;
        const char *image = json_str(c->config, "Berth.ImageName");
        if (!image)
                image = json_str(c->config, "Config.Image");
        cleanup_free char *i = xasprintf("image=%s", image ? image : "");
        cleanup_free char *n = xasprintf("name=%s", c->name);
        strv_push(&attrs, i);
        strv_push(&attrs, n);
        for (char *const *p = extra; p && *p; p++)
                strv_push(&attrs, *p);
        event_emit("container", action, c->id, attrs, json_object_get(json_object_get(c->config, "Config"), "Labels"));
}

bool container_cleaner(struct berth_container *c, bool *marked)
{
        cleanup_free char *p = xasprintf("%s/cleaner", c->dir);
        cleanup_free char *text = NULL;
        *marked = read_file(p, &text, NULL, NULL) == 0;
        int pid = 0;
        long long start = -1;
        return *marked && sscanf(text, "%d %lld", &pid, &start) == 2 && pid > 0 && proc_starttime(pid) == start;
}

bool container_is_running(struct berth_container *c)
{
        const char *st = json_str(c->state, "Status");
        if (!st || (!streq(st, "running") && !streq(st, "paused")))
                return false;
        pid_t pid = json_int(c->state, "Pid", 0);
        long long start = json_int(c->state, "StartTime", -1);
        if (pid > 0 && proc_starttime(pid) == start)
                return true;
        /* The process is gone: its unit's stop hook (or the client of an
         * attached run --rm) records the exit in a moment.  Give it that
         * moment, then read what it wrote; a client that was killed will
         * not. */
        bool marked;
        bool cleaner = container_cleaner(c, &marked);
        cleanup_free char *path = xasprintf("%s/state.json", c->dir);
        for (int i = 0; i < (marked && !cleaner ? 0 : 40); i++) {
                json_t *fresh = json_load_path(path, 0, NULL);
                const char *fst = json_str(fresh, "Status");
                if (fst && !streq(fst, "running") && !streq(fst, "paused")) {
                        json_decref(c->state);
                        c->state = fresh;
                        return false;
                }
                json_decref(fresh);
                usleep(25 * 1000);
        }
        /* Nobody recorded it (systemd killed, host crashed): reconcile in
         * memory; the next writer saves. */
        json_object_set_new(c->state, "Status", json_string("exited"));
        json_object_set_new(c->state, "Pid", json_integer(0));
        if (json_int(c->state, "ExitCode", 0) == 0)
                json_object_set_new(c->state, "ExitCode", json_integer(255));
        return false;
}

const char *container_status(struct berth_container *c)
{
        container_is_running(c);
        const char *st = json_str(c->state, "Status");
        return st ? st : "unknown";
}

const char *container_health_status(struct berth_container *c)
{
        const char *kind = json_string_value(json_array_get(json_at(c->config, "Config.Healthcheck.Test"), 0));
        if (!kind || streq(kind, "NONE"))
                return NULL;
        cleanup_free char *path = xasprintf("%s/health.json", c->dir);
        json_auto_t *h = json_load_path(path, 0, NULL);
        const char *st = json_string_value(json_object_get(h, "Status"));
        return st && streq(st, "healthy") ? "healthy" : st && streq(st, "unhealthy") ? "unhealthy" : "starting";
}

char *container_status_text(struct berth_container *c)
{
        const char *st = container_status(c);
        if (streq(st, "running") || streq(st, "paused")) {
                cleanup_free char *ago = format_human_ago(parse_rfc3339_ns(json_str(c->state, "StartedAt")));
                /* "Up 5 minutes": drop the " ago" */
                size_t l = strlen(ago);
                if (l > 4)
                        ago[l - 4] = '\0';
                const char *health = container_health_status(c);
                return xasprintf("Up %s%s%s", ago, streq(st, "paused") ? " (Paused)" : "",
                                 !health                     ? ""
                                 : streq(health, "healthy")   ? " (healthy)"
                                 : streq(health, "unhealthy") ? " (unhealthy)"
                                                              : " (health: starting)");
        }
        if (streq(st, "exited")) {
                cleanup_free char *ago = format_human_ago(parse_rfc3339_ns(json_str(c->state, "FinishedAt")));
                return xasprintf("Exited (%lld) %s", json_int(c->state, "ExitCode", 0), ago);
        }
        if (streq(st, "created"))
                return xstrdup("Created");
        return xstrdup(st);
}

void container_exec_event(struct berth_container *c, char *const *argv, char id_out[static 65])
{
        unsigned char raw[32] = {};
        (void) random_bytes(raw, sizeof(raw));
        hex_encode(raw, sizeof(raw), id_out);
        cleanup_strbuf struct strbuf cmd = {};
        for (size_t i = 0; argv && argv[i]; i++)
                strbuf_printf(&cmd, "%s%s", i ? " " : "", argv[i]);
        cleanup_free char *eid = xasprintf("execID=%s", id_out);
        char *attrs[] = { eid, NULL };
        const char *actions[] = { "exec_create", "exec_start" };
        for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
                cleanup_free char *a = xasprintf("%s: %s", actions[i], cmd.s ? cmd.s : "");
                container_event(c, a, attrs);
        }
}
