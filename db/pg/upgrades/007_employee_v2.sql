-- Employee writes, second version: each one call that also returns the row as
-- stored (no read back), refuses a WORKDEPT that DEPARTMENT does not hold
-- (as a real SAMPLE database's foreign key would, but as a status, not an
-- error), and writes its audit row, trace id included, in the same transaction.

DROP PROCEDURE employee_create;
DROP PROCEDURE employee_update;
DROP PROCEDURE employee_delete;

-- Status: 0 created, 1 empno exists, 2 unknown department.
CREATE PROCEDURE employee_create(
  IN p_empno CHAR(6), IN p_firstnme VARCHAR(12), IN p_midinit CHAR(1), IN p_lastname VARCHAR(15),
  IN p_workdept CHAR(3), IN p_phoneno CHAR(4), IN p_hiredate DATE, IN p_job CHAR(8),
  IN p_edlevel SMALLINT, IN p_sex CHAR(1), IN p_birthdate DATE, IN p_salary DECIMAL(9,2),
  IN p_bonus DECIMAL(9,2), IN p_comm DECIMAL(9,2),
  IN p_customer_id VARCHAR(12), IN p_session_hash CHAR(16), IN p_request_id VARCHAR(64),
  IN p_client_address VARCHAR(45), IN p_trace_id CHAR(32), IN p_device VARCHAR(64), IN p_now TIMESTAMPTZ,
  OUT o_status INTEGER, OUT o_empno CHAR(6), OUT o_firstnme VARCHAR(12), OUT o_midinit CHAR(1),
  OUT o_lastname VARCHAR(15), OUT o_workdept CHAR(3), OUT o_phoneno CHAR(4), OUT o_hiredate DATE,
  OUT o_job CHAR(8), OUT o_edlevel SMALLINT, OUT o_sex CHAR(1), OUT o_birthdate DATE,
  OUT o_salary DECIMAL(9,2), OUT o_bonus DECIMAL(9,2), OUT o_comm DECIMAL(9,2)
) LANGUAGE plpgsql AS $$
BEGIN
  IF p_workdept IS NOT NULL AND NOT EXISTS (SELECT 1 FROM department WHERE deptno = p_workdept) THEN
    o_status := 2;
  ELSE
    INSERT INTO employee (empno, firstnme, midinit, lastname, workdept, phoneno, hiredate, job,
                          edlevel, sex, birthdate, salary, bonus, comm)
    VALUES (p_empno, p_firstnme, p_midinit, p_lastname, p_workdept, p_phoneno, p_hiredate, p_job,
            p_edlevel, p_sex, p_birthdate, p_salary, p_bonus, p_comm)
    ON CONFLICT (empno) DO NOTHING
    RETURNING empno, firstnme, midinit, lastname, workdept, phoneno, hiredate, job, edlevel, sex,
              birthdate, salary, bonus, comm
         INTO o_empno, o_firstnme, o_midinit, o_lastname, o_workdept, o_phoneno, o_hiredate, o_job,
              o_edlevel, o_sex, o_birthdate, o_salary, o_bonus, o_comm;
    o_status := CASE WHEN FOUND THEN 0 ELSE 1 END;
  END IF;
  PERFORM audit_write(p_now, 'employee_create',
                      CASE o_status WHEN 0 THEN 'ok' WHEN 1 THEN 'conflict' ELSE 'unknown_department' END,
                      p_customer_id, NULL, p_request_id, p_client_address, p_trace_id, p_device,
                      p_session_hash, 'empno ' || p_empno);
END
$$;

-- Partial update: only the columns named in p_fields (comma-separated, e.g.
-- ',FIRSTNME,SALARY,') change. Status: 0 updated, 1 not found, 2 edlevel
-- would decrease, 3 unknown department.
CREATE PROCEDURE employee_update(
  IN p_empno CHAR(6), IN p_fields VARCHAR(200), IN p_firstnme VARCHAR(12), IN p_midinit CHAR(1),
  IN p_lastname VARCHAR(15), IN p_workdept CHAR(3), IN p_phoneno CHAR(4), IN p_hiredate DATE,
  IN p_job CHAR(8), IN p_edlevel SMALLINT, IN p_sex CHAR(1), IN p_birthdate DATE,
  IN p_salary DECIMAL(9,2), IN p_bonus DECIMAL(9,2), IN p_comm DECIMAL(9,2),
  IN p_customer_id VARCHAR(12), IN p_session_hash CHAR(16), IN p_request_id VARCHAR(64),
  IN p_client_address VARCHAR(45), IN p_trace_id CHAR(32), IN p_device VARCHAR(64), IN p_now TIMESTAMPTZ,
  OUT o_status INTEGER, OUT o_empno CHAR(6), OUT o_firstnme VARCHAR(12), OUT o_midinit CHAR(1),
  OUT o_lastname VARCHAR(15), OUT o_workdept CHAR(3), OUT o_phoneno CHAR(4), OUT o_hiredate DATE,
  OUT o_job CHAR(8), OUT o_edlevel SMALLINT, OUT o_sex CHAR(1), OUT o_birthdate DATE,
  OUT o_salary DECIMAL(9,2), OUT o_bonus DECIMAL(9,2), OUT o_comm DECIMAL(9,2)
) LANGUAGE plpgsql AS $$
DECLARE
  v_edlevel SMALLINT;
BEGIN
  SELECT edlevel INTO v_edlevel FROM employee WHERE empno = p_empno FOR UPDATE;
  IF NOT FOUND THEN
    o_status := 1;
  ELSIF POSITION(',EDLEVEL,' IN p_fields) > 0 AND p_edlevel < v_edlevel THEN
    o_status := 2;
  ELSIF POSITION(',WORKDEPT,' IN p_fields) > 0 AND p_workdept IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM department WHERE deptno = p_workdept) THEN
    o_status := 3;
  ELSE
    UPDATE employee SET
      firstnme  = CASE WHEN POSITION(',FIRSTNME,'  IN p_fields) > 0 THEN p_firstnme  ELSE firstnme  END,
      midinit   = CASE WHEN POSITION(',MIDINIT,'   IN p_fields) > 0 THEN p_midinit   ELSE midinit   END,
      lastname  = CASE WHEN POSITION(',LASTNAME,'  IN p_fields) > 0 THEN p_lastname  ELSE lastname  END,
      workdept  = CASE WHEN POSITION(',WORKDEPT,'  IN p_fields) > 0 THEN p_workdept  ELSE workdept  END,
      phoneno   = CASE WHEN POSITION(',PHONENO,'   IN p_fields) > 0 THEN p_phoneno   ELSE phoneno   END,
      hiredate  = CASE WHEN POSITION(',HIREDATE,'  IN p_fields) > 0 THEN p_hiredate  ELSE hiredate  END,
      job       = CASE WHEN POSITION(',JOB,'       IN p_fields) > 0 THEN p_job       ELSE job       END,
      edlevel   = CASE WHEN POSITION(',EDLEVEL,'   IN p_fields) > 0 THEN p_edlevel   ELSE edlevel   END,
      sex       = CASE WHEN POSITION(',SEX,'       IN p_fields) > 0 THEN p_sex       ELSE sex       END,
      birthdate = CASE WHEN POSITION(',BIRTHDATE,' IN p_fields) > 0 THEN p_birthdate ELSE birthdate END,
      salary    = CASE WHEN POSITION(',SALARY,'    IN p_fields) > 0 THEN p_salary    ELSE salary    END,
      bonus     = CASE WHEN POSITION(',BONUS,'     IN p_fields) > 0 THEN p_bonus     ELSE bonus     END,
      comm      = CASE WHEN POSITION(',COMM,'      IN p_fields) > 0 THEN p_comm      ELSE comm      END
    WHERE empno = p_empno
    RETURNING empno, firstnme, midinit, lastname, workdept, phoneno, hiredate, job, edlevel, sex,
              birthdate, salary, bonus, comm
         INTO o_empno, o_firstnme, o_midinit, o_lastname, o_workdept, o_phoneno, o_hiredate, o_job,
              o_edlevel, o_sex, o_birthdate, o_salary, o_bonus, o_comm;
    o_status := 0;
  END IF;
  PERFORM audit_write(p_now, 'employee_update',
                      CASE o_status WHEN 0 THEN 'ok' WHEN 1 THEN 'not_found'
                                    WHEN 2 THEN 'edlevel_decrease' ELSE 'unknown_department' END,
                      p_customer_id, NULL, p_request_id, p_client_address, p_trace_id, p_device,
                      p_session_hash, 'empno ' || p_empno || ' fields ' || TRIM(BOTH ',' FROM p_fields));
END
$$;

-- Status: 0 deleted, 1 not found, 2 other rows refer to the employee (a
-- foreign key restricts the delete, as SAMPLE's PROJECT and EMPPROJACT do).
CREATE PROCEDURE employee_delete(
  IN p_empno CHAR(6), IN p_customer_id VARCHAR(12), IN p_session_hash CHAR(16),
  IN p_request_id VARCHAR(64), IN p_client_address VARCHAR(45), IN p_trace_id CHAR(32),
  IN p_device VARCHAR(64), IN p_now TIMESTAMPTZ, OUT o_status INTEGER
) LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    DELETE FROM employee WHERE empno = p_empno;
    o_status := CASE WHEN FOUND THEN 0 ELSE 1 END;
  EXCEPTION WHEN foreign_key_violation THEN
    o_status := 2;
  END;
  PERFORM audit_write(p_now, 'employee_delete',
                      CASE o_status WHEN 0 THEN 'ok' WHEN 1 THEN 'not_found' ELSE 'referenced' END,
                      p_customer_id, NULL, p_request_id, p_client_address, p_trace_id, p_device,
                      p_session_hash, 'empno ' || p_empno);
END
$$;
