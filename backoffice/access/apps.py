from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "backoffice.access"
    label = "access"
    verbose_name = "Access governance"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from backoffice.access.apply import ACCESS_APPLIER
        from backoffice.access.effects import (
            DelegationGrant,
            MitigationGrant,
            RoleGrant,
            RoleRevoke,
        )
        from backoffice.access.queries import (
            delegation_check,
            emergency_mark,
            facts_by_username,
            get_acting_rules,
            get_actor_facts,
            role_directory,
        )
        from backoffice.access.services import do_end_session_roles, overdue_reviews_in_inbox
        from backoffice.audit.services import register_mark
        from backoffice.base.actor import register_part, register_people_facts
        from backoffice.base.effects import register
        from backoffice.base.references import register_directory
        from backoffice.cases.queries import register_inbox_extra
        from backoffice.cases.services import register_delegation_check
        from backoffice.org.appliers import register_applier

        register_part(
            "facts",
            lambda actor: get_actor_facts(actor.user, actor.today, actor.session_key),
        )
        register_people_facts(facts_by_username)
        register_directory("role", role_directory())
        register_delegation_check(delegation_check)
        register_part("acting", lambda actor: get_acting_rules(actor.user, actor.today))
        register("access.grant", RoleGrant())
        register("access.mitigate", MitigationGrant())
        register("access.delegate", DelegationGrant())
        register("access.revoke", RoleRevoke())
        register_applier(ACCESS_APPLIER)
        register_mark(emergency_mark)
        register_inbox_extra(overdue_reviews_in_inbox)
        user_logged_out.connect(
            lambda sender, request, user, **kw: do_end_session_roles(
                user, request.session.session_key
            ),
            weak=False,
            dispatch_uid="dsd-end-on-logout",
        )
