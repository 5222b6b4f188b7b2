-- What the application's user needs, and nothing more: EXECUTE on the
-- procedures the API calls, SELECT on the tables its plain statements read,
-- UPDATE on the one column it writes without a procedure (the scratch pad),
-- and SELECT on the migration ledger (start-up checks the schema version).
-- No DDL authority: the DBA runs the scripts (README, "Db2").
--
-- Run after the migrations, in the same schema (SET SCHEMA, SET PATH), as a
-- user who may grant. Every GRANT ends with "TO ROLE HOST_API_APP", the
-- default grantee: db/db2/deploy.sh puts its --grantee there (ROLE, USER or
-- GROUP on LUW; ROLE or a plain authorization ID on z/OS, where a role is
-- effective only inside a trusted context) and creates a missing role on LUW.
-- Granting again what is held already is harmless: z/OS ignores it with
-- warning +562 (SQLSTATE 01560), CLP exit code 2, which deploy.sh accepts.

GRANT EXECUTE ON PROCEDURE LOGIN TO ROLE HOST_API_APP
@
GRANT EXECUTE ON PROCEDURE SESSION_RESOLVE TO ROLE HOST_API_APP
@
GRANT EXECUTE ON PROCEDURE LOGOUT TO ROLE HOST_API_APP
@
GRANT EXECUTE ON PROCEDURE LOGOUT_ALL TO ROLE HOST_API_APP
@
GRANT EXECUTE ON PROCEDURE SESSION_END TO ROLE HOST_API_APP
@
GRANT EXECUTE ON PROCEDURE PURGE_EXPIRED TO ROLE HOST_API_APP
@
GRANT EXECUTE ON PROCEDURE TRANSFER TO ROLE HOST_API_APP
@
GRANT EXECUTE ON PROCEDURE EMPLOYEE_CREATE TO ROLE HOST_API_APP
@
GRANT EXECUTE ON PROCEDURE EMPLOYEE_UPDATE TO ROLE HOST_API_APP
@
GRANT EXECUTE ON PROCEDURE EMPLOYEE_DELETE TO ROLE HOST_API_APP
@
GRANT SELECT ON TABLE EMPLOYEE TO ROLE HOST_API_APP
@
GRANT SELECT ON TABLE ACCOUNT TO ROLE HOST_API_APP
@
GRANT SELECT ON TABLE LEDGER_ENTRY TO ROLE HOST_API_APP
@
GRANT SELECT ON TABLE HOST_SESSION TO ROLE HOST_API_APP
@
GRANT UPDATE (SCRATCH_PAD) ON TABLE HOST_SESSION TO ROLE HOST_API_APP
@
GRANT SELECT ON TABLE AUDIT_LOG TO ROLE HOST_API_APP
@
GRANT SELECT ON TABLE SCHEMA_MIGRATION TO ROLE HOST_API_APP
@
