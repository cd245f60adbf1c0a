from django.apps import AppConfig


class WallsConfig(AppConfig):
    """Chinese walls (#8): areas and barriers, Brewer–Nash, watch and restricted lists,
    deal projects, wall crossings."""

    name = "backoffice.walls"
    label = "walls"
    verbose_name = "Chinese walls"

    def ready(self) -> None:
        from backoffice.base.actor import register_part
        from backoffice.base.effects import register
        from backoffice.cases.guards import register_guard
        from backoffice.org.appliers import register_applier
        from backoffice.walls.effects import (
            ClearPadOrder,
            ClearTrade,
            Cross,
            LiftRestriction,
            OpenProject,
            PublishResearch,
        )
        from backoffice.walls.guard import WallGuard
        from backoffice.walls.queries import actor_wall
        from backoffice.walls.sync import WALLS_APPLIER

        register("walls.open_project", OpenProject())
        register("walls.cross", Cross())
        register("walls.publish_research", PublishResearch())
        register("walls.clear_trade", ClearTrade())
        register("walls.lift_restriction", LiftRestriction())
        register("walls.clear_pad_order", ClearPadOrder())
        register_guard(WallGuard())
        register_part("wall", actor_wall)
        register_applier(WALLS_APPLIER)
