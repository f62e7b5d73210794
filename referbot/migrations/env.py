"""Alembic environment: runs migrations on the async engine given by the configured URL."""

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from referbot.store.database import prepare_sqlite
from referbot.store.models import Base

config = context.config


def _run(connection):
    # One transaction for the whole upgrade, DDL included (SQLite too, see prepare_sqlite): a kill
    # at any point during the very first start leaves either no schema or the whole of it.
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                      transactional_ddl=True, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(config.get_main_option("sqlalchemy.url"), hide_parameters=True)
    if engine.dialect.name == "sqlite":
        prepare_sqlite(engine, foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=Base.metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
