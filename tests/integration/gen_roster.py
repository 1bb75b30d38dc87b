"""gen_roster.py N PATH: a crisis roster of N generated members plus the
fixed ids the config and tests use (mayor, deputy_mayor, soumu_bucho,
kiki_shitsucho), every one with a lineworks and an ntfy contact."""
import sys

n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("group: crisis\ntitle: 危機管理グループ\nmembers:\n")
    fixed = [("mayor", "町長", "[approver]", "ichiro"),
             ("deputy_mayor", "副町長", "[approver]", "seiji"),
             ("soumu_bucho", "総務部長", "[sender]", None),
             ("kiki_shitsucho", "危機管理室長", "[sender, admin]", None)]
    for i, (mid, title, roles, login) in enumerate(fixed):
        f.write("  - {id: %s, name: 固定 %d, title: %s, roles: %s%s, "
                "contacts: {lineworks: %s@t.example, ntfy: cc-%s}}\n" %
                (mid, i, title, roles, ", login: %s" % login if login else "",
                 mid, mid))
    for i in range(n):
        f.write("  - {id: m%05d, name: 職員 %05d, title: 職員, "
                "contacts: {lineworks: m%05d@t.example, ntfy: cc-m%05d}}\n"
                % (i, i, i, i))
