/* berth — container terminals passed over a unix socket (see console.h). */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>

#include "berth/console.h"
#include "berth/util.h"

/* The message that carries the terminal: one byte of data (a stream socket
 * passes no ancillary data without it) and room for one fd as SCM_RIGHTS.
 * One layout for the sender and the receiver, so they cannot disagree. */
struct fd_message {
        char byte;
        struct iovec iov;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } u;
        struct msghdr msg;
};

static void fd_message_init(struct fd_message *m, char byte)
{
        *m = (struct fd_message){ .byte = byte };
        m->iov = (struct iovec){ .iov_base = &m->byte, .iov_len = 1 };
        m->msg = (struct msghdr){ .msg_iov = &m->iov, .msg_iovlen = 1, .msg_control = m->u.buf,
                                  .msg_controllen = sizeof(m->u.buf) };
}

int console_setup_child(int sock, berth_error_t *err)
{
        cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return berth_error(err, errno, "open /dev/ptmx");
        if (grantpt(master) < 0 || unlockpt(master) < 0)
                return berth_error(err, errno, "unlock the pseudo-terminal");
        char name[64];
        if (ptsname_r(master, name, sizeof(name)) != 0)
                return berth_error(err, errno, "ptsname");
        cleanup_close int slave = open(name, O_RDWR | O_NOCTTY);
        if (slave < 0)
                return berth_error(err, errno, "open `%s`", name);
        if (setsid() < 0 && errno != EPERM)
                return berth_error(err, errno, "setsid");
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return berth_error(err, errno, "set the controlling terminal");
        for (int fd = 0; fd < 3; fd++)
                if (dup2(slave, fd) < 0)
                        return berth_error(err, errno, "dup2");

        struct fd_message m;
        fd_message_init(&m, 't');
        struct cmsghdr *c = CMSG_FIRSTHDR(&m.msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &master, sizeof(int));
        if (sendmsg(sock, &m.msg, MSG_NOSIGNAL) < 0)
                return berth_error(err, errno, "send the terminal to berth");
        return 0;
}

int console_recv_master(int sock, berth_error_t *err)
{
        struct fd_message m;
        fd_message_init(&m, 0);
        ssize_t n;
        while ((n = recvmsg(sock, &m.msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
                ;
        struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&m.msg) : NULL;
        if (!c || c->cmsg_type != SCM_RIGHTS)
                return berth_error(err, n < 0 ? errno : 0, "receive the container's terminal");
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        return fd;
}

void console_copy_winsize(int master)
{
        struct winsize ws;
        if (ioctl(0, TIOCGWINSZ, &ws) == 0)
                (void) ioctl(master, TIOCSWINSZ, &ws);
}
