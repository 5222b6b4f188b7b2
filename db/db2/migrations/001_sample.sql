-- The Db2 SAMPLE tables this API serves, shaped as on a real SAMPLE database
-- (db2sampl): DEPARTMENT and EMPLOYEE with SAMPLE's foreign key RED and check
-- constraint NUMBER. Where SAMPLE is installed these objects exist already:
-- every CREATE here that fails with SQLSTATE 42710 (exists) keeps the
-- existing object (db/db2/driver.ts, for *_sample scripts only), and
-- db/db2/deploy.sh skips this script when both tables are there.
-- Unqualified names: the CLP session's CURRENT SCHEMA (README) names the schema.
-- Not created here: SAMPLE's foreign keys from DEPARTMENT to EMPLOYEE (RDE)
-- and to itself (ROD); the API never writes DEPARTMENT.

CREATE TABLE DEPARTMENT (
  DEPTNO   CHAR(3)     NOT NULL,
  DEPTNAME VARCHAR(36) NOT NULL,
  MGRNO    CHAR(6),
  ADMRDEPT CHAR(3)     NOT NULL,
  LOCATION CHAR(16),
  PRIMARY KEY (DEPTNO)
) /* @IN */
@
-- z/OS: with an explicit table space (IN db.ts) a table with a primary key is
-- incomplete until its unique index exists; create the index before any table
-- refers to it. In an implicitly created table space (no IN clause, as here)
-- Db2 creates it, and on LUW the primary key always does.
CREATE TABLE EMPLOYEE (
  EMPNO     CHAR(6)      NOT NULL,
  FIRSTNME  VARCHAR(12)  NOT NULL,
  MIDINIT   CHAR(1),
  LASTNAME  VARCHAR(15)  NOT NULL,
  WORKDEPT  CHAR(3),
  PHONENO   CHAR(4),
  HIREDATE  DATE,
  JOB       CHAR(8),
  EDLEVEL   SMALLINT     NOT NULL,
  SEX       CHAR(1),
  BIRTHDATE DATE,
  SALARY    DECIMAL(9,2),
  BONUS     DECIMAL(9,2),
  COMM      DECIMAL(9,2),
  PRIMARY KEY (EMPNO),
  CONSTRAINT NUMBER CHECK (PHONENO >= '0000' AND PHONENO <= '9999'),
  CONSTRAINT RED FOREIGN KEY (WORKDEPT) REFERENCES DEPARTMENT ON DELETE SET NULL
) /* @IN */
@
CREATE INDEX XEMP2 ON EMPLOYEE (WORKDEPT)
@
